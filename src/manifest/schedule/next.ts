import type { ScheduleSpec } from '../types.js';
import { compileSchedule, type CompiledSchedule } from './compile.js';
import { nextOfForm } from './forms.js';

/** The first firing strictly after `after` (epoch ms), within startsAt/endsAt; null when there is none. */
export function nextAfter(plan: CompiledSchedule, after: number): number | null {
  if (!plan.enabled) return null;
  // startsAt is inclusive: a firing exactly at startsAt counts.
  const from = plan.startsAt !== null && after < plan.startsAt ? plan.startsAt - 1 : after;
  const t = nextOfForm(plan.form, plan.zone, from);
  if (t === null || (plan.endsAt !== null && t > plan.endsAt)) return null;
  return t;
}

/** Up to `count` firings strictly after `after`, ascending. */
export function firingsAfter(plan: CompiledSchedule, after: number, count: number): number[] {
  const out: number[] = [];
  let t: number | null = after;
  while (out.length < count && (t = nextAfter(plan, t)) !== null) out.push(t);
  return out;
}

export interface NextFiringsOptions {
  after: Date;
  count: number;
  /** The zone of a schedule without `timezone`. */
  defaultZone: string;
}

/**
 * The firings of a schedule strictly after `opts.after`, ascending, at most
 * `opts.count`. Throws ScheduleSpecError for a spec that cannot be planned.
 */
export function nextFirings(spec: ScheduleSpec, opts: NextFiringsOptions): Date[] {
  const plan = compileSchedule(spec, opts.defaultZone);
  return firingsAfter(plan, opts.after.getTime(), opts.count).map((t) => new Date(t));
}

/** Spans tried, widest last, when looking back for the most recent firings before now. */
const LOOK_BACK_SPANS_MS = [3_600_000, 86_400_000, 8 * 86_400_000, 40 * 86_400_000, 400 * 86_400_000];

/**
 * The most recent (at most `max`) firings in (after, now], ascending.
 * Looks back in widening spans so a schedule that fires every minute and was
 * down for a month does not enumerate 43,200 firings.
 */
export function recentFirings(plan: CompiledSchedule, after: number, now: number, max: number): number[] {
  // Past endsAt nothing fires, so look back from there: a dense schedule that ended long ago stays cheap.
  const until = plan.endsAt !== null && plan.endsAt < now ? plan.endsAt : now;
  let found: number[] = [];
  for (const span of [...LOOK_BACK_SPANS_MS, Infinity]) {
    const from = Math.max(after, until - span);
    found = [];
    let t: number | null = from;
    while ((t = nextAfter(plan, t)) !== null && t <= until) {
      found.push(t);
      if (found.length > max) found.shift();
    }
    if (found.length >= max || from === after) return found;
  }
  return found;
}
