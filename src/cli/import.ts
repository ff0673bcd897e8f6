import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { VergeosClient, VergeosError } from '../engine/drivers/index.js';
import { isValidTimeZone } from '../manifest/time.js';
import { convertVergeos } from '../import/vergeos.js';
import { readVergeosSnapshot } from '../import/vergeos-read.js';
import { CliError, EXIT } from './exit.js';

interface ImportOptions {
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

export function registerImport(program: Command): void {
  const group = program.command('import').description('write manifests for objects of another system');
  group
    .command('vergeos')
    .description(
      "read a VergeOS system's tasks, schedules, triggers, task events and webhooks; write manifests",
    )
    .requiredOption('--url <url>', 'the VergeOS system, https://HOST')
    .option('--token-env <name>', 'environment variable holding a VergeOS API key', 'VERGEOS_API_KEY')
    .option('--username <user>', 'log in as this VergeOS user instead of an API key')
    .option('--password-env <name>', "environment variable holding that user's password")
    .option('--ca <file>', 'PEM file of the CA that signed the VergeOS certificate')
    .option('--insecure', 'accept a self-signed certificate (a lab system)')
    .option('--timezone <zone>', 'time zone for the imported schedules (VergeOS keeps none)', 'UTC')
    .option('--out <dir>', 'folder the manifests are written to', 'vergeos-import')
    .option('--force', 'overwrite manifests already in --out')
    .addHelpText(
      'after',
      `
Secrets are never written: webhook credentials become {env: NAME} references, listed at the end with what
could not be carried over. Review, then: taskops validate DIR && taskops reconcile DIR --dry-run.

Examples:
  $ VERGEOS_API_KEY=... taskops import vergeos --url https://vergeos.example.com --timezone America/New_York`,
    )
    .action(async (opts: ImportOptions) => {
      if (!isValidTimeZone(opts.timezone))
        throw new CliError(`--timezone: unknown time zone ${opts.timezone}`, EXIT.usage);
      if (opts.username && !opts.passwordEnv)
        throw new CliError('--username needs --password-env', EXIT.usage);
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
    });
}
