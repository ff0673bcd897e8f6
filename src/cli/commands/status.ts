import type { Command } from 'commander';
import { addServerOptions, type ServerOptions } from '../server-options.js';

export function registerStatus(program: Command): void {
  const status = program
    .command('status')
    .description(
      'applied revision, last sync, object counts, drift (objects changed by hand) and next firings',
    )
    .option('-o, --output <format>', 'text or json', 'text');
  addServerOptions(status, 'ask a running `taskops serve` (its live sync status) instead of the data dir');
  status
    .addHelpText(
      'after',
      `
Last sync is the last reconcile attempt (serve's, or an applying taskops reconcile) with its outcome:
applied, unchanged, pending, or why nothing was applied (source-failed, invalid with file:line:col,
refused by a safety rule, stale-plan). Drift lists live objects taskops manages whose content differs from what it last applied (changed
through the API since); the next reconcile puts them back to the source.

Without --server, status reads the data dir read-only (it never creates a store) and needs no engine.

Examples:
  $ taskops status
  $ taskops status --server http://127.0.0.1:8080
  $ taskops --data-dir /var/lib/taskops status --output json | jq .drift`,
    )
    .action(async (opts: { output: string } & ServerOptions, cmd: Command) => {
      const { statusAction } = await import('../status.js');
      await statusAction(opts, cmd);
    });
}
