import type { Command } from 'commander';
import { previewFirings } from '../engine/index.js';
import { escapeControl, loadDesiredState, type ScheduleSpec } from '../manifest/index.js';
import type { LiveObject, RunRecord } from '../store/types.js';
import { storeUrl } from './store.js';
import { engineConfig, globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { CliError, EXIT } from './exit.js';
import { serverFrom } from './http-client.js';
import { colourStatus } from './log-views.js';
import { liveView, parseKind } from './live-objects.js';
import { notFound } from './names.js';
import type { Palette } from './output.js';
import type { ServerOptions } from './server-options.js';
import { summary, wiring, type Link } from './wiring.js';

const FIRINGS = 5;
const RUNS = 5;

export interface DescribeOptions extends ServerOptions {
  output: string;
}

export async function describeAction(
  ref: string,
  path: string | undefined,
  opts: DescribeOptions,
  cmd: Command,
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1)
    throw new CliError(
      `describe takes KIND/NAME, like task/nightly-backup (got ${JSON.stringify(ref)})`,
      EXIT.usage,
    );
  const kind = parseKind(ref.slice(0, slash));
  const name = ref.slice(slash + 1);
  const defaultZone = engineConfig(cmd).config.defaultTimezone;
  const view = await liveView(
    globalOptions(cmd).dataDir,
    serverFrom(opts.server),
    opts.apiTokenFile,
    storeUrl(cmd),
  );
  try {
    const object = view.objects.find((o) => o.kind === kind && o.name === name);
    if (!object)
      throw notFound(
        kind,
        name,
        view.objects.filter((o) => o.kind === kind).map((o) => o.name),
        `in ${view.where}`,
      );
    const links = wiring(object, view.objects);
    const firings = firingsOf(object, view.objects, defaultZone);
    const runs = object.kind === 'Task' ? await view.runsOf(object.name, RUNS) : [];
    const source = path ? await sourceOf(path, object, defaultZone) : null;
    const report = { kind, name, object, wiring: links, nextFirings: firings, lastRuns: runs, source };
    process.stdout.write(
      format === 'json' ? JSON.stringify(report, null, 2) + '\n' : render(report, stdoutPalette(cmd)),
    );
  } finally {
    await view.close();
  }
}

interface Firing {
  schedule: string;
  zone: string;
  local: string;
  utc: string;
}

/** A schedule's own firings; a task's from each schedule that fires it, each in that schedule's zone. */
function firingsOf(object: LiveObject, objects: readonly LiveObject[], defaultZone: string): Firing[] {
  const names =
    object.kind === 'Schedule'
      ? [object.name]
      : object.kind === 'Task'
        ? ((object.spec as { schedules?: string[] }).schedules ?? [])
        : [];
  const firings: Firing[] = [];
  for (const name of names) {
    const schedule = objects.find((o) => o.kind === 'Schedule' && o.name === name);
    if (!schedule) continue;
    const spec = schedule.spec as ScheduleSpec;
    const zone = spec.timezone ?? defaultZone;
    try {
      for (const f of previewFirings(spec, { after: new Date(), count: FIRINGS, defaultZone }))
        firings.push({ schedule: name, zone, local: f.local, utc: f.utc });
    } catch {
      // a schedule the engine cannot plan shows no firings here; serve's log says why
    }
  }
  return firings.sort((a, b) => a.utc.localeCompare(b.utc)).slice(0, FIRINGS);
}

async function sourceOf(path: string, object: LiveObject, defaultZone: string): Promise<string | null> {
  const loaded = await loadDesiredState(path, { revision: 'describe', defaultZone });
  const found = loaded.state?.manifests.find(
    (m) => m.kind === object.kind && m.metadata.name === object.name,
  );
  return found ? `${found.source.file}:${found.source.line}` : null;
}

interface Report {
  kind: string;
  name: string;
  object: LiveObject;
  wiring: { out: Link[]; in: Link[] };
  nextFirings: Firing[];
  lastRuns: RunRecord[];
  source: string | null;
}

function render(r: Report, c: Palette): string {
  // Every name, description and error here was written by a committer or a program: escaped.
  const e = escapeControl;
  const o = r.object;
  const lines = [`${c.bold(`${r.kind}/${e(r.name)}`)}  ${e(summary(o))}`];
  if (o.metadata.description) lines.push(`  ${e(o.metadata.description)}`);
  lines.push(
    `Managed by: ${o.managedBy}${o.revision ? ` (revision ${e(o.revision)})` : ''}, updated ${o.updatedAt}`,
  );
  if (o.retiredAt) lines.push(c.yellow(`Retired:    ${o.retiredAt} (deleteAfterRun)`));
  lines.push(`Source:     ${r.source ? e(r.source) : 'give the manifests path to show file:line'}`);
  const linkLines = (links: Link[]) => links.map((l) => `  ${l.relation} ${l.kind}/${e(l.name)}`);
  lines.push('', 'Wiring:');
  if (r.wiring.out.length + r.wiring.in.length === 0)
    lines.push('  nothing points here and it points nowhere');
  lines.push(...linkLines(r.wiring.out), ...linkLines(r.wiring.in));
  if (r.kind === 'Schedule' || r.kind === 'Task') {
    lines.push('', r.nextFirings.length ? 'Next firings:' : 'Next firings: none');
    for (const f of r.nextFirings) lines.push(`  ${f.local}  ${f.utc}  (Schedule/${e(f.schedule)})`);
  }
  if (r.kind === 'Task') {
    lines.push('', r.lastRuns.length ? 'Last runs:' : 'Last runs: none');
    for (const run of r.lastRuns) {
      lines.push(
        `  ${e(run.runId)}  ${run.startedAt ?? run.queuedAt}  ${colourStatus(c, run.status)}` +
          `${run.durationMs === null ? '' : `  ${run.durationMs}ms`}${run.error ? `  ${e(run.error)}` : ''}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
