/**
 * What to do with firings that came due while nobody was looking: downtime
 * (at start-up) or a stalled/suspended process (at run time). Pure.
 */

/** A running engine's firing this late (suspend, long stall) is handled like downtime, not as on time. */
export const LATE_TOLERANCE_MS = 60_000;

export interface DueDecision {
  /** The one firing to run, if any: always the most recent due one. */
  run: { at: number; catchUp: boolean } | null;
  /** Firings not run, ascending, at most `missedReportCap` (the most recent ones). */
  missed: number[];
}

export interface DueOptions {
  /** True on the scheduler's first setSchedules (engine start-up). */
  startup: boolean;
  catchUpWindowMs: number;
  missedReportCap: number;
}

/**
 * `due`: the most recent due firings, ascending, non-empty. Never returns more
 * than one run: a schedule that missed ten firings runs once, not ten times.
 */
export function decideDue(due: readonly number[], now: number, opts: DueOptions): DueDecision {
  const latest = due[due.length - 1]!;
  const earlier = due.slice(0, -1);
  const lateness = now - latest;
  const capped = (list: readonly number[]) =>
    opts.missedReportCap > 0 ? list.slice(-opts.missedReportCap) : [];
  if (!opts.startup && earlier.length === 0 && lateness <= LATE_TOLERANCE_MS) {
    return { run: { at: latest, catchUp: false }, missed: [] };
  }
  // While running, a firing a few seconds late still runs even with a catch-up window of 0.
  const window = opts.startup ? opts.catchUpWindowMs : Math.max(opts.catchUpWindowMs, LATE_TOLERANCE_MS);
  if (lateness <= window) return { run: { at: latest, catchUp: true }, missed: capped(earlier) };
  return { run: null, missed: capped(due) };
}
