import type { Command } from 'commander';
import { KINDS, type Kind } from '../manifest/types.js';
import { findDrift, type DriftEntry } from '../reconcile/index.js';
import { openStore, StoreError, type Store } from '../store/index.js';
import { globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { CliError } from './exit.js';
import { table } from './output.js';

const FORMATS = ['text', 'json'] as const;

export interface ScheduleFiring {
  schedule: string;
  at: string;
  tasks: string[];
}

/**
 * Engine hook: the next firings of the live schedules, soonest first. Returns none until the engine's
 * scheduler provides them (replace this body with a call into src/engine).
 */
export async function nextScheduleFirings(
  _store: Store,
  _now: Date,
  _count: number,
): Promise<ScheduleFiring[]> {
  return [];
}

interface KindCounts {
  total: number;
  taskops: number;
  api: number;
  retired: number;
}

export interface StatusReport {
  appliedRevision: string | null;
  appliedAt: string | null;
  objects: Record<Kind, KindCounts>;
  drift: DriftEntry[];
  nextFirings: ScheduleFiring[];
}

export async function statusReport(store: Store, now: Date): Promise<StatusReport> {
  const live = await store.listObjects();
  const applied = await store.getAppliedRevision();
  const objects = Object.fromEntries(
    KINDS.map((k) => [k, { total: 0, taskops: 0, api: 0, retired: 0 }]),
  ) as Record<Kind, KindCounts>;
  for (const o of live) {
    const c = objects[o.kind];
    c.total++;
    c[o.managedBy]++;
    if (o.retiredAt) c.retired++;
  }
  return {
    appliedRevision: applied?.revision ?? null,
    appliedAt: applied?.appliedAt ?? null,
    objects,
    drift: findDrift(live),
    nextFirings: await nextScheduleFirings(store, now, 5),
  };
}

function renderStatus(r: StatusReport, cmd: Command): string {
  const c = stdoutPalette(cmd);
  const lines = [
    r.appliedRevision
      ? `Applied revision: ${c.bold(r.appliedRevision)} at ${r.appliedAt}`
      : 'Applied revision: none yet (run taskops reconcile)',
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
      lines.push(`  ${c.yellow('~')} ${d.kind}/${d.name} (changed ${d.changedAt}): ${d.reason}`);
  }
  lines.push('', r.nextFirings.length === 0 ? 'Next firings: none known' : 'Next firings:');
  for (const f of r.nextFirings) lines.push(`  ${f.at}  ${f.schedule} → ${f.tasks.join(', ')}`);
  return lines.join('\n') + '\n';
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('applied revision, object counts, drift (objects changed by hand) and next schedule firings')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Drift lists live objects taskops manages whose content differs from what it last applied (changed
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
        const report = await statusReport(store, new Date());
        process.stdout.write(
          format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report, cmd),
        );
      } finally {
        await store.close();
      }
    });
}
