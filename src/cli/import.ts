import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { VergeosClient, VergeosError } from '../engine/drivers/index.js';
import { isValidTimeZone } from '../manifest/time.js';
import { convertVergeos } from '../import/vergeos.js';
import { readVergeosSnapshot } from '../import/vergeos-read.js';
import { CliError, EXIT } from './exit.js';

export interface ImportOptions {
  url: string;
  tokenEnv?: string;
  username?: string;
  passwordEnv?: string;
  ca?: string;
  insecure?: boolean;
  timezone: string;
  out: string;
  force?: boolean;
}

export async function importVergeosAction(opts: ImportOptions): Promise<void> {
  if (!isValidTimeZone(opts.timezone))
    throw new CliError(`--timezone: unknown time zone ${opts.timezone}`, EXIT.usage);
  if (opts.username && !opts.passwordEnv) throw new CliError('--username needs --password-env', EXIT.usage);
  const client = new VergeosClient(
    {
      type: 'vergeos',
      url: opts.url,
      auth: opts.username
        ? { username: opts.username, passwordFrom: { env: opts.passwordEnv! } }
        : { tokenFrom: { env: opts.tokenEnv ?? 'VERGEOS_API_KEY' } },
      ...(opts.insecure ? { allowInsecureCertificates: true } : {}),
      ...(opts.ca ? { caFile: path.resolve(opts.ca) } : {}),
    },
    // A one-shot command may wait a little for the request budget or a 429, rather than fail.
    { waitInline: (ms, signal) => delay(ms, undefined, { signal }) },
  );
  let result;
  try {
    result = convertVergeos(await readVergeosSnapshot(client), { timezone: opts.timezone });
  } catch (err) {
    if (err instanceof VergeosError) throw new CliError(`import vergeos: ${err.message}`);
    throw err;
  } finally {
    await client.close();
  }
  const names = Object.keys(result.files);
  const clash = names.filter((f) => existsSync(path.join(opts.out, f)));
  if (clash.length > 0 && !opts.force)
    throw new CliError(`${opts.out}: ${clash.join(', ')} already exist; use --force to overwrite`);
  mkdirSync(opts.out, { recursive: true });
  for (const [file, text] of Object.entries(result.files)) writeFileSync(path.join(opts.out, file), text);
  const out = [
    `wrote ${names.length} file${names.length === 1 ? '' : 's'} to ${opts.out}: ${names.join(', ') || '(nothing to import)'}`,
  ];
  if (result.secretEnv.length > 0)
    out.push(
      `secrets referenced (set them, and list them under secrets.env in the engine config): ${result.secretEnv.join(', ')}`,
    );
  out.push(...result.report);
  process.stdout.write(`${out.join('\n')}\n`);
}
