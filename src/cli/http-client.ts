import { readApiToken } from './api-token.js';
import { CliError, EXIT } from './exit.js';

/** The server a command talks to: `--server URL`, else TASKOPS_SERVER, else none (work on the data dir). */
export function serverFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const value = flag ?? (env.TASKOPS_SERVER || undefined);
  if (value === undefined) return undefined;
  return checkedServerUrl(value, flag !== undefined ? '--server' : 'TASKOPS_SERVER');
}

/** An http(s) URL, or a usage error that says how to write one (`127.0.0.1:8080` parses as scheme "127.0.0.1"). */
export function checkedServerUrl(value: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  if (!withScheme) {
    throw new CliError(
      `${source} ${JSON.stringify(value)} has no scheme: write http://${value.replace(/^\/+/, '')} ` +
        '(or https:// when serve sits behind TLS)',
      EXIT.usage,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(
      `${source} ${JSON.stringify(value)} is not a URL: write it as http://HOST:PORT`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      `${source} ${JSON.stringify(value)} uses ${url.protocol.slice(0, -1)}: taskops serve speaks http:// or https://`,
      EXIT.usage,
    );
  }
  return value;
}

/** Calls a running `taskops serve`; the token comes from TASKOPS_API_TOKEN or --api-token-file. */
export async function callServer<T>(
  server: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; tokenFile?: string } = {},
): Promise<{ status: number; data: T }> {
  const token = readApiToken(opts.tokenFile);
  // Loaded here, not at the top: serve and the local commands import this module and never call a server.
  const { default: axios } = await import('axios');
  try {
    const response = await axios.request<T>({
      url: new URL(path, server).toString(),
      method,
      // An empty JSON object rather than no body: the server only takes JSON.
      data: opts.body ?? (method === 'POST' ? {} : undefined),
      timeout: 30_000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      validateStatus: () => true,
    });
    if (response.status >= 400)
      throw refused(server, response.status, response.data, Boolean(token), opts.tokenFile);
    return { status: response.status, data: response.data };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot reach ${server}: ${(err as Error).message}`);
  }
}

/** The server's refusal as a CLI error; a 401 says which token to set, since the body cannot know. */
export function refused(
  server: string,
  status: number,
  data: unknown,
  sentToken: boolean,
  tokenFile: string | undefined,
): CliError {
  const message = (data as { message?: unknown } | undefined)?.message;
  const why = typeof message === 'string' ? message : 'request refused';
  if (status !== 401) return new CliError(`${server} answered ${status}: ${why}`);
  const hint = !sentToken
    ? 'it requires an API token: set TASKOPS_API_TOKEN to the token serve was started with, or pass --api-token-file FILE'
    : tokenFile !== undefined
      ? `the token in ${tokenFile} is not the one serve was started with: put the server's token in that file`
      : "TASKOPS_API_TOKEN is not the token serve was started with: set it to the server's token";
  return new CliError(`${server} answered 401: ${why}; ${hint}`);
}
