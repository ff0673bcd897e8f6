import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import { KINDS } from '../manifest/types.js';
import { statusReport, type StatusReport } from '../server/index.js';
import { openStore, StoreError, type Store } from '../store/index.js';
import { engineConfig, globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { CliError } from './exit.js';
import { table, type Palette } from './output.js';

const FORMATS = ['text', 'json'] as const;

function renderStatus(r: StatusReport, cmd: Command): string {
  const c = stdoutPalette(cmd);
  // Names in the store may have been written by hand, never validated.
  const e = escapeControl;
  const lines = [
    r.appliedRevision
      ? `Applied revision: ${c.bold(e(r.appliedRevision))} at ${r.appliedAt}`
      : 'Applied revision: none yet (run taskops reconcile)',
    ...syncLines(r, c),
    '',
    table(
      KINDS.map((k) => [
        k,
        String(r.objects[k].total),
        String(r.objects[k].taskops),
        String(r.objects[k].api),
        String(r.objects[k].retired),
      ]),
      ['KIND', 'TOTAL', 'TASKOPS', 'API', 'RETIRED'],
    ),
    '',
  ];
  if (r.drift.length === 0) lines.push(`Drift: ${c.green('none')}`);
  else {
    lines.push(c.yellow(`Drift: ${r.drift.length} object${r.drift.length === 1 ? '' : 's'} changed by hand`));
    for (const d of r.drift)
      lines.push(`  ${c.yellow('~')} ${d.kind}/${e(d.name)} (changed ${d.changedAt}): ${e(d.reason)}`);
  }
  for (const [name, d] of Object.entries(r.disabledWebhooks ?? {}))
    lines.push(
      c.red(
        `Webhook/${e(name)} disabled by the receiver (${d.status} at ${d.at}): taskops webhooks enable ${e(name)}`,
      ),
    );
  lines.push('', r.nextFirings.length === 0 ? 'Next firings: none known' : 'Next firings:');
  for (const f of r.nextFirings) lines.push(`  ${f.at}  ${e(f.schedule)} → ${e(f.tasks.join(', '))}`);
  return lines.join('\n') + '\n';
}

/** The last reconcile attempt as the store kept it: outcome, revision, and why it failed with file:line. */
function syncLines(r: StatusReport, c: Palette): string[] {
  const sync = r.sync;
  if (!sync?.lastOutcome) return [];
  const failed = sync.lastError !== null;
  const outcome = failed ? c.red(sync.lastOutcome) : c.green(sync.lastOutcome);
  // Revisions, messages and problems quote file names and manifest text: shown escaped, like the rest.
  const e = escapeControl;
  const lines = [
    `Last sync: ${outcome} of ${e(sync.lastAttemptedRevision ?? 'the source')} at ${sync.lastAttemptAt}`,
  ];
  if (sync.lastError) {
    lines.push(`  ${e(sync.lastError.message)}`, ...sync.lastError.problems.map((p) => `  ${c.red(e(p))}`));
  }
  if (sync.pending) {
    const { create, update, delete: del } = sync.pending;
    lines.push(`  pending: ${create} to create, ${update} to update, ${del} to delete (auto-apply is off)`);
  }
  return lines;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('applied revision, object counts, drift (objects changed by hand) and next schedule firings')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Last sync is the last reconcile attempt (serve's, or an applying taskops reconcile) with its outcome:
applied, unchanged, pending, or why nothing was applied (source-failed, invalid with file:line:col,
refused by a safety rule, stale-plan). Drift lists live objects taskops manages whose content differs from what it last applied (changed
through the API since); the next reconcile puts them back to the source.

Examples:
  $ taskops status
  $ taskops --data-dir /var/lib/taskops status --output json | jq .drift`,
    )
    .action(async (opts: { output: string }, cmd: Command) => {
      const format = parseOutputFormat(opts.output, FORMATS);
      let store: Store;
      try {
        store = await openStore(globalOptions(cmd).dataDir);
      } catch (err) {
        throw err instanceof StoreError ? new CliError(err.message) : err;
      }
      try {
        const report = await statusReport(store, new Date(), engineConfig(cmd).config.defaultTimezone);
        process.stdout.write(
          format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report, cmd),
        );
      } finally {
        await store.close();
      }
    });
}
