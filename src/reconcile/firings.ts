import { isDeepStrictEqual } from 'node:util';
import { compileSchedule, dstWarnings, firingsAfter, formatFiring } from '../manifest/schedule/index.js';
import type { DesiredState, ScheduleSpec, TaskSpec } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';
import type { Plan, PlanChange, PlanFiring, PlanFirings, PlanWarning } from './plan.js';

export interface FiringOptions {
  /** Firings are counted from here: the time the plan is made. */
  now: Date;
  /** The zone of schedules without `timezone` (the engine's default). */
  defaultZone: string;
  /** How many firings per side; 5 by default. */
  count?: number;
}

export const PLAN_FIRINGS = 5;

type ScheduleSpecs = Map<string, ScheduleSpec>;

/** The next firings of the named schedules together, soonest first, each in its own schedule's zone. */
function firingsOf(names: readonly string[], specs: ScheduleSpecs, opts: FiringOptions): PlanFiring[] {
  const count = opts.count ?? PLAN_FIRINGS;
  const all: { t: number; zone: string; schedule: string }[] = [];
  for (const name of new Set(names)) {
    const spec = specs.get(name);
    if (!spec) continue;
    try {
      const compiled = compileSchedule(spec, opts.defaultZone);
      for (const t of firingsAfter(compiled, opts.now.getTime(), count))
        all.push({ t, zone: compiled.zone, schedule: name });
    } catch {
      // A schedule the engine cannot plan has no firings; validation reports why.
    }
  }
  all.sort((a, b) => a.t - b.t);
  const out: PlanFiring[] = [];
  for (const f of all) {
    if (out.length === count) break;
    if (out.length > 0 && out[out.length - 1]!.at === new Date(f.t).toISOString()) continue;
    const shown = formatFiring(new Date(f.t), f.zone);
    out.push({ at: shown.utc, local: shown.local, schedule: f.schedule });
  }
  return out;
}

const schedulesOf = (spec: unknown): string[] => ((spec as TaskSpec | undefined)?.schedules ?? []).slice();

/**
 * The plan with the next firings before → after on every created, changed or deleted Schedule and on
 * every Task whose schedules change (its list, or a listed schedule's spec), and a warning for each
 * created or changed Schedule whose local time falls in a DST gap or repeated hour in the coming year.
 * Pure: time is a parameter.
 */
export function withFirings(
  plan: Plan,
  desired: DesiredState,
  live: LiveObject[],
  opts: FiringOptions,
): Plan {
  const before: ScheduleSpecs = new Map(
    live.filter((o) => o.kind === 'Schedule').map((o) => [o.name, o.spec as ScheduleSpec]),
  );
  const after: ScheduleSpecs = new Map(
    desired.manifests
      .filter((m) => m.kind === 'Schedule')
      .map((m) => [m.metadata.name, m.spec as ScheduleSpec]),
  );
  const changedSchedules = new Set(plan.changes.filter((c) => c.kind === 'Schedule').map((c) => c.name));
  const firings = (c: PlanChange): PlanFirings | null => {
    if (c.kind === 'Schedule') {
      return {
        before: c.before ? firingsOf([c.name], before, opts) : [],
        after: c.after ? firingsOf([c.name], after, opts) : [],
      };
    }
    if (c.kind !== 'Task') return null;
    const was = c.before ? schedulesOf(c.before.spec) : [];
    const will = c.after ? schedulesOf(c.after.spec) : [];
    const touched =
      !isDeepStrictEqual([...was].sort(), [...will].sort()) || will.some((s) => changedSchedules.has(s));
    if (!touched || (was.length === 0 && will.length === 0)) return null;
    return { before: firingsOf(was, before, opts), after: firingsOf(will, after, opts) };
  };
  const dst: PlanWarning[] = plan.changes
    .filter((c) => c.kind === 'Schedule' && c.after)
    .flatMap((c) =>
      dstWarnings(c.after!.spec as ScheduleSpec, opts).map((message) => ({
        object: `Schedule/${c.name}`,
        message,
      })),
    );
  return {
    ...plan,
    changes: plan.changes.map((c) => ({ ...c, firings: firings(c) })),
    warnings: [...plan.warnings, ...dst],
  };
}
