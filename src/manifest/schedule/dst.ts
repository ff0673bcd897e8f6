import { DAY_MS, MINUTE_MS, zoneOffsetMinutes } from '../time.js';
import type { ScheduleSpec } from '../types.js';
import { compileSchedule, type CompiledSchedule } from './compile.js';
import { nextAfter } from './next.js';

/** One change of a zone's offset: local times in [wallFrom, wallTo) are skipped (gap) or happen twice (repeat). */
interface Transition {
  at: number;
  kind: 'gap' | 'repeat';
  wallFrom: number;
  wallTo: number;
  offsetBefore: number;
}

/** The zone's offset changes in (from, from + days], each found to the minute. */
function transitions(zone: string, from: number, days: number): Transition[] {
  const out: Transition[] = [];
  for (let d = 0; d < days; d++) {
    const lo0 = from + d * DAY_MS;
    const hi0 = lo0 + DAY_MS;
    const before = zoneOffsetMinutes(zone, lo0);
    const after = zoneOffsetMinutes(zone, hi0);
    if (before === after) continue;
    let lo = lo0 / MINUTE_MS;
    let hi = hi0 / MINUTE_MS;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (zoneOffsetMinutes(zone, mid * MINUTE_MS) === before) lo = mid;
      else hi = mid;
    }
    const at = hi * MINUTE_MS;
    const [a, b] = [at + before * MINUTE_MS, at + after * MINUTE_MS];
    out.push({
      at,
      kind: after > before ? 'gap' : 'repeat',
      wallFrom: Math.min(a, b),
      wallTo: Math.max(a, b),
      offsetBefore: before,
    });
  }
  return out;
}

/** Local times of day (minutes) a wall-clock schedule fires at; none for elapsed-time and once forms. */
function timesOfDay(plan: CompiledSchedule): number[] {
  const f = plan.form;
  if (f.kind === 'cron') return f.cron.hours.flatMap((h) => f.cron.minutes.map((m) => h * 60 + m));
  if (f.kind === 'days' || f.kind === 'weeks' || f.kind === 'months') return [f.atMinutes];
  return [];
}

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (wall: number) => {
  const d = new Date(wall);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};
const day = (wall: number) => new Date(wall).toISOString().slice(0, 10);

export interface DstWarningOptions {
  now: Date;
  defaultZone: string;
  /** How far ahead to look; a year by default, so both changes of a year are named. */
  days?: number;
}

/**
 * Where a schedule's local time falls in its zone's DST gap (the firing moves to the end of the gap)
 * or repeated hour (it fires once, at the first), naming the dates in the coming year.
 */
export function dstWarnings(spec: ScheduleSpec, opts: DstWarningOptions): string[] {
  let plan: CompiledSchedule;
  try {
    plan = compileSchedule(spec, opts.defaultZone);
  } catch {
    return [];
  }
  const times = timesOfDay(plan);
  if (times.length === 0) return [];
  const out: string[] = [];
  for (const t of transitions(plan.zone, opts.now.getTime(), opts.days ?? 366)) {
    const dayStart = Math.floor(t.wallFrom / DAY_MS) * DAY_MS;
    const affected = times
      .map((m) => dayStart + m * MINUTE_MS)
      .filter((wall) => wall >= t.wallFrom && wall < t.wallTo)
      .filter((wall) => {
        // Only a day the schedule fires on: the firing of that wall time is where the engine puts it.
        const instant = t.kind === 'gap' ? t.at : wall - t.offsetBefore * MINUTE_MS;
        return nextAfter(plan, instant - 1) === instant;
      });
    if (affected.length === 0) continue;
    const shown = affected.slice(0, 3).map(hhmm).join(', ') + (affected.length > 3 ? ', …' : '');
    const plural = affected.length > 1;
    const first = new Date(affected[0]! - t.offsetBefore * MINUTE_MS).toISOString().slice(11, 16);
    out.push(
      t.kind === 'gap'
        ? `on ${day(dayStart)} ${shown} ${plural ? 'do' : 'does'} not exist in ${plan.zone}; ` +
            `${plural ? 'these firings move' : 'this firing moves'} to ${hhmm(t.wallTo)}`
        : `on ${day(dayStart)} ${shown} ${plural ? 'happen' : 'happens'} twice in ${plan.zone}; ` +
            `${plural ? 'each fires' : 'it fires'} once, at the first (${plural ? `from ${first}` : first} UTC)`,
    );
  }
  return out;
}
