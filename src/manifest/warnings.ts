import { cronNeverFires, parseCron } from './cron.js';
import { builtInDriver } from './drivers.js';
import type { ReferenceFinding } from './references.js';
import { isValidTimeZone, parseScheduleDateTime } from './time.js';
import type { EventTriggerSpec, Kind, LoadedManifest, ScheduleSpec, TaskSpec } from './types.js';

export interface WarningOptions {
  /** The time "in the past" is measured against; without it those checks are skipped. */
  now?: Date;
  defaultZone?: string;
}

/**
 * What is valid but almost certainly not meant: a schedule that can never fire again, and an object
 * nothing uses. `validate` prints these without failing (unless --strict); plans carry them.
 */
export function manifestWarnings(manifests: LoadedManifest[], opts: WarningOptions = {}): ReferenceFinding[] {
  const out: ReferenceFinding[] = [];
  // Cron texts recur across schedules: each distinct one is parsed once.
  const neverFires = new Map<string, boolean>();
  for (const m of manifests) if (m.kind === 'Schedule') out.push(...scheduleWarnings(m, opts, neverFires));
  out.push(...unusedObjects(manifests));
  return out;
}

function scheduleWarnings(
  m: LoadedManifest,
  opts: WarningOptions,
  neverFires: Map<string, boolean>,
): ReferenceFinding[] {
  const spec = m.spec as ScheduleSpec;
  const out: ReferenceFinding[] = [];
  const zone =
    spec.timezone !== undefined && isValidTimeZone(spec.timezone)
      ? spec.timezone
      : (opts.defaultZone ?? 'UTC');
  if (spec.cron !== undefined) {
    let never = neverFires.get(spec.cron);
    if (never === undefined) {
      const parsed = parseCron(spec.cron);
      never = parsed.ok && cronNeverFires(parsed.cron);
      neverFires.set(spec.cron, never);
    }
    if (never) {
      out.push({
        manifest: m,
        path: ['spec', 'cron'],
        message: `cron "${spec.cron}" matches no day of any year, so it never fires: check the day and month fields`,
      });
    }
  }
  if (opts.now === undefined) return out;
  const now = opts.now.getTime();
  for (const field of ['once', 'endsAt'] as const) {
    const text = spec[field];
    if (text === undefined) continue;
    const parsed = parseScheduleDateTime(text, zone);
    if (!parsed.ok || parsed.instant.getTime() > now) continue;
    const consequence =
      field === 'once' ? 'it will never fire' : 'the schedule has ended and will not fire again';
    out.push({
      manifest: m,
      path: ['spec', field],
      message: `${field} ${text} is in the past (now ${opts.now.toISOString()}): ${consequence}`,
    });
  }
  return out;
}

/** Schedules no task lists, Tags no task or trigger targets, Webhooks no webhook task sends to. */
function unusedObjects(manifests: LoadedManifest[]): ReferenceFinding[] {
  const used = new Set<string>();
  const use = (kind: Kind, name: string | undefined) => name !== undefined && used.add(`${kind}/${name}`);
  for (const m of manifests) {
    if (m.kind === 'Task') {
      const spec = m.spec as TaskSpec;
      for (const s of spec.schedules ?? []) use('Schedule', s);
      use('Tag', spec.target?.tag);
      if (builtInDriver(spec.objectType)?.target === 'webhook') use('Webhook', spec.target?.name);
    } else if (m.kind === 'EventTrigger') {
      use('Tag', (m.spec as EventTriggerSpec).event.tag);
    }
  }
  const usedBy: Partial<Record<Kind, string>> = {
    Schedule: 'no Task lists it in spec.schedules, so it triggers nothing',
    Tag: 'no Task or EventTrigger targets it',
    Webhook: 'no webhook Task targets it, so nothing is ever sent to it',
  };
  const out: ReferenceFinding[] = [];
  for (const m of manifests) {
    const why = usedBy[m.kind];
    if (why === undefined || used.has(`${m.kind}/${m.metadata.name}`)) continue;
    out.push({ manifest: m, path: ['metadata', 'name'], message: `unused: ${why}` });
  }
  return out;
}
