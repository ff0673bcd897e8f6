import type { Command } from 'commander';
import type { ImportOptions } from '../import.js';

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
      const { importVergeosAction } = await import('../import.js');
      await importVergeosAction(opts);
    });
}
