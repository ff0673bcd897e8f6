import { readFileSync } from 'node:fs';
import { CliError } from './exit.js';

/** Only printable ASCII can travel in an Authorization header unchanged. */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/**
 * The API bearer token from `--api-token-file` or else `TASKOPS_API_TOKEN`, trimmed; null when
 * neither is given (an empty variable counts as unset). A file or variable that is given but holds
 * no token is an error: serving without auth because a secret failed to render would be silent.
 */
export function readApiToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (file !== undefined) {
    const token = readTokenFile(file).trim();
    if (!token) {
      throw new CliError(
        `the API token file ${file} is empty: write the token into it, or leave out --api-token-file ` +
          'to serve without a token on loopback only',
      );
    }
    return checked(token, `the API token in ${file}`);
  }
  const value = env.TASKOPS_API_TOKEN;
  if (value === undefined || value === '') return null;
  if (!value.trim()) {
    throw new CliError(
      'TASKOPS_API_TOKEN is set but blank: set it to the token, or unset it to serve without a token ' +
        'on loopback only',
    );
  }
  return checked(value.trim(), 'TASKOPS_API_TOKEN');
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (err as Error).message;
    throw new CliError(`cannot read the API token file ${file}: ${why}`);
  }
}

function checked(token: string, what: string): string {
  if (!HEADER_SAFE.test(token)) {
    throw new CliError(
      `${what} holds control or non-ASCII characters, which an HTTP header cannot carry: use one line of printable ASCII`,
    );
  }
  return token;
}
