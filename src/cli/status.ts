import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import { KINDS } from '../manifest/types.js';
import { statusReport, type StatusReport } from '../server/status.js';
import { engineConfig, globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { openReadOnlyStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { callServer, serverFrom } from './http-client.js';
import { table, type Palette } from './output.js';
import type { ServerOptions } from './server-options.js';

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

export async function statusAction(opts: { output: string } & ServerOptions, cmd: Command): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS);
  const server = serverFrom(opts.server);
  const report = server
    ? (await callServer<StatusReport>(server, 'GET', '/api/v1/status', { tokenFile: opts.apiTokenFile })).data
    : await localReport(cmd);
  process.stdout.write(
    format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report, cmd),
  );
}

async function localReport(cmd: Command): Promise<StatusReport> {
  const zone = engineConfig(cmd).config.defaultTimezone;
  const store = await openReadOnlyStore(globalOptions(cmd).dataDir, storeUrl(cmd));
  try {
    return await statusReport(store, new Date(), zone);
  } finally {
    await store.close();
  }
}
