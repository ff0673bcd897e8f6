import { cronNeverFires, parseCron } from './cron.js';
import { builtInDriver } from './drivers.js';
import type { ReferenceFinding } from './references.js';
import type { Path } from './schema-errors.js';
import { isValidTimeZone, parseScheduleDateTime } from './time.js';
import type { EventTriggerSpec, Kind, LoadedManifest, ScheduleSpec, TaskSpec } from './types.js';

export interface WarningOptions {
  /** The time "in the past" is measured against; without it those checks are skipped. */
  now?: Date;
  defaultZone?: string;
}

/** A schedule's own warning: where in its manifest, and what. */
export interface ScheduleWarning {
  path: Path;
  message: string;
}

/**
 * What is valid but almost certainly not meant in one schedule: it can never fire again. Checked where the
 * schedule is read (a check thread), since it needs nothing else; `validate` prints these without failing
 * (unless --strict) and plans carry them. `neverFires` remembers each distinct cron text's answer.
 */
export function scheduleWarnings(
  spec: ScheduleSpec,
  opts: WarningOptions,
  neverFires: Map<string, boolean>,
): ScheduleWarning[] {
  const out: ScheduleWarning[] = [];
  const zone =
    spec.timezone !== undefined && isValidTimeZone(spec.timezone)
      ? spec.timezone
      : (opts.defaultZone ?? 'UTC');
  if (spec.cron !== undefined) {
    let never = neverFires.get(spec.cron);
    if (never === undefined) {
      const parsed = parseCron(spec.cron);
      never = parsed.ok && cronNeverFires(parsed.cron);
      // Bounded: a thread checks many files, and a repo of distinct cron texts must not grow it without end.
      if (neverFires.size < MAX_REMEMBERED_CRONS) neverFires.set(spec.cron, never);
    }
    if (never) {
      out.push({
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
      path: ['spec', field],
      message: `${field} ${text} is in the past (now ${opts.now.toISOString()}): ${consequence}`,
    });
  }
  return out;
}

const MAX_REMEMBERED_CRONS = 10_000;

/** Schedules no task lists, Tags no task or trigger targets, Webhooks no webhook task sends to. */
export function unusedObjects(manifests: readonly LoadedManifest[]): ReferenceFinding[] {
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
