import type { ScheduleSpec } from '../../manifest/types.js';
import { decideDue } from './catchup.js';
import type { Clock } from './clock.js';
import { compileSchedule, type CompiledSchedule } from './compile.js';
import { MinHeap, type HeapItem } from './heap.js';
import { firingsAfter, nextAfter, recentFirings } from './next.js';

export interface FireEvent {
  schedule: string;
  scheduledFor: Date;
  firedAt: Date;
  /** True when this run stands in for a firing missed during downtime or a stall. */
  catchUp: boolean;
}

export interface MissedEvent {
  schedule: string;
  scheduledFor: Date;
}

/** The wall clock moved unlike elapsed time (suspend and resume, an NTP step) or the process stalled. */
export interface ClockJumpEvent {
  /** Where the wall clock should have been at the wake-up. */
  expected: Date;
  actual: Date;
}

export interface InvalidScheduleEvent {
  schedule: string;
  message: string;
}

export interface SchedulerOptions {
  clock: Clock;
  defaultZone: string;
  /** At start-up, the most recent missed firing runs once if it is at most this old. */
  catchUpWindowMs: number;
  /** Callbacks must not throw; if one does, the error is rethrown after the scheduler is consistent again. */
  onFire(event: FireEvent): void;
  onMissed(event: MissedEvent): void;
  /** A spec that cannot be planned (bad zone, cron, date): it fires nothing. */
  onInvalid?(event: InvalidScheduleEvent): void;
  /** A wake-up found the wall clock more than CLOCK_JUMP_REPORT_MS away from where elapsed time put it. */
  onClockJump?(event: ClockJumpEvent): void;
  /** onMissed calls per schedule and occasion, at most. Default 10. */
  missedReportCap?: number;
}

/**
 * The longest the scheduler sleeps without re-reading the wall clock. Timers count elapsed time, so after
 * a forward jump (resume from suspend, an NTP step) a timer armed for a later firing would run late by the
 * whole jump; woken at least this often, the scheduler sees what came due within seconds.
 */
export const WALL_CLOCK_CHECK_MS = 2_000;
/** A wake-up this far from its expected wall time is reported as a clock jump (or a stalled process). */
export const CLOCK_JUMP_REPORT_MS = 5_000;

export interface NamedSchedule {
  name: string;
  spec: ScheduleSpec;
}

/**
 * One resident schedule: its spec and pending firing. The compiled plan is not kept: it is made again from the
 * spec when the firing comes due (a few µs), which at 100,000 schedules saves ≈ 13 MB of plans held for hours.
 */
class Entry implements HeapItem {
  /** The pending firing (epoch ms); Infinity when none (no more firings, or a spec that cannot be planned). */
  key = Infinity;
  heapIndex = -1;
  constructor(
    readonly name: string,
    public spec: ScheduleSpec,
  ) {}
}

type Emit = () => void;

/**
 * Equal meaning, whether or not a default was written out. Compares every
 * ScheduleSpec field (the schema allows no others) without allocating, which
 * matters when a hot change re-sends 100,000 schedules.
 */
function sameSpec(a: ScheduleSpec, b: ScheduleSpec): boolean {
  if (
    a.timezone !== b.timezone ||
    a.cron !== b.cron ||
    a.once !== b.once ||
    a.startsAt !== b.startsAt ||
    a.endsAt !== b.endsAt ||
    (a.enabled ?? true) !== (b.enabled ?? true)
  ) {
    return false;
  }
  const [r, q] = [a.repeat, b.repeat];
  if (!r || !q) return r === q;
  if (r.unit !== q.unit || (r.every ?? 1) !== (q.every ?? 1) || (r.at ?? '00:00') !== (q.at ?? '00:00'))
    return false;
  if (!r.on || !q.on) return r.on === q.on;
  return r.on.length === q.on.length && r.on.every((d, i) => d === q.on![i]);
}

/**
 * Fires many schedules from one timer: a min-heap of (next firing, schedule), with the clock's single
 * timer armed for the earliest, or for the next wall-clock check when that comes sooner.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new MinHeap<Entry>();
  private readonly missedReportCap: number;
  private cancelTimer: (() => void) | null = null;
  /** Wall times the timer was armed for and at, to tell a clock jump at the wake-up. */
  private armedFor: number | null = null;
  private armedAt = 0;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.missedReportCap = opts.missedReportCap ?? 10;
  }

  /**
   * Sets the whole list. Unchanged schedules keep their pending firing; changed
   * and new ones are planned from now (or from `lastFired`, when that is later);
   * absent ones are dropped. A changed schedule whose firing is due but whose
   * timer has not run yet keeps that firing: it fires now, once. On the first
   * call, firings missed since `lastFired` are caught up (once) or reported.
   */
  setSchedules(list: Iterable<NamedSchedule>, lastFired: ReadonlyMap<string, Date> = new Map()): void {
    if (this.stopped) throw new Error('Scheduler is stopped');
    const now = this.opts.clock.now().getTime();
    const startup = !this.started;
    this.started = true;
    const emits: Emit[] = [];
    // Names are only needed to drop absent entries: with none yet (a start), 100,000s of them are not kept.
    const seen = this.entries.size > 0 ? new Set<string>() : null;
    for (const { name, spec } of list) {
      seen?.add(name);
      const existing = this.entries.get(name);
      if (existing && sameSpec(existing.spec, spec)) continue;
      // Due under the spec that was live at its instant: the change must not lose it.
      if (existing && existing.key <= now) this.settleDue(existing, now, emits);
      const plan = this.compile(name, spec, emits);
      const entry = existing ?? new Entry(name, spec);
      entry.spec = spec;
      this.entries.set(name, entry);
      const last = lastFired.get(name)?.getTime();
      if (plan && startup && last !== undefined && last < now) {
        const due = recentFirings(plan, last, now, this.missedReportCap + 1);
        if (due.length > 0) this.settle(entry, due, now, true, emits);
      }
      this.planAfter(entry, plan, last !== undefined && last > now ? last : now);
    }
    for (const [name, entry] of seen ? this.entries : []) {
      if (seen!.has(name)) continue;
      this.heap.remove(entry);
      this.entries.delete(name);
    }
    this.rearm();
    this.emit(emits);
  }

  /** The next `count` firings of a resident schedule, starting with the pending one. */
  nextFirings(name: string, count: number): Date[] {
    const entry = this.entries.get(name);
    const plan = entry && entry.key !== Infinity && count >= 1 ? this.planOf(entry) : null;
    if (!entry || !plan) return [];
    return [entry.key, ...firingsAfter(plan, entry.key, count - 1)].map((t) => new Date(t));
  }

  get size(): number {
    return this.entries.size;
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedFor = null;
    this.heap.clear();
    this.entries.clear();
  }

  private compile(name: string, spec: ScheduleSpec, emits: Emit[]): CompiledSchedule | null {
    try {
      return compileSchedule(spec, this.opts.defaultZone);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      emits.push(() => this.opts.onInvalid?.({ schedule: name, message }));
      return null;
    }
  }

  /** The plan of a resident entry, compiled again from its spec; it compiled before, so it compiles now. */
  private planOf(entry: Entry): CompiledSchedule | null {
    try {
      return compileSchedule(entry.spec, this.opts.defaultZone);
    } catch {
      return null;
    }
  }

  private planAfter(entry: Entry, plan: CompiledSchedule | null, after: number): void {
    this.setKey(entry, (plan && nextAfter(plan, after)) ?? Infinity);
  }

  private setKey(entry: Entry, key: number): void {
    entry.key = key;
    if (key === Infinity) this.heap.remove(entry);
    else this.heap.update(entry);
  }

  /** Decides what to do with the due firings (ascending, non-empty) and queues the callbacks. */
  private settle(entry: Entry, due: number[], now: number, startup: boolean, emits: Emit[]): void {
    const decision = decideDue(due, now, {
      startup,
      catchUpWindowMs: this.opts.catchUpWindowMs,
      missedReportCap: this.missedReportCap,
    });
    const schedule = entry.name;
    for (const t of decision.missed)
      emits.push(() => this.opts.onMissed({ schedule, scheduledFor: new Date(t) }));
    const run = decision.run;
    if (run) {
      const event = {
        schedule,
        scheduledFor: new Date(run.at),
        firedAt: new Date(now),
        catchUp: run.catchUp,
      };
      emits.push(() => this.opts.onFire(event));
    }
  }

  /** Settles the pending firing of `entry` (due: key <= now) and plans its next one after now. */
  private settleDue(entry: Entry, now: number, emits: Emit[]): void {
    const plan = this.planOf(entry);
    const due = entry.key;
    if (!plan) return this.setKey(entry, Infinity);
    const following = nextAfter(plan, due);
    if (following === null || following > now) {
      // The usual case: exactly one firing is due, and `following` is the next one.
      this.settle(entry, [due], now, false, emits);
      this.setKey(entry, following ?? Infinity);
    } else {
      // After a stall, a suspend or a forward clock jump several are due: decide on the recent ones.
      this.settle(entry, recentFirings(plan, due - 1, now, this.missedReportCap + 1), now, false, emits);
      this.planAfter(entry, plan, now);
    }
  }

  private readonly onTimer = (): void => {
    const expected = Math.max(this.armedFor ?? 0, this.armedAt);
    this.cancelTimer = null;
    this.armedFor = null;
    if (this.stopped) return;
    const now = this.opts.clock.now().getTime();
    const emits: Emit[] = [];
    if (Math.abs(now - expected) > CLOCK_JUMP_REPORT_MS && this.opts.onClockJump) {
      const event = { expected: new Date(expected), actual: new Date(now) };
      emits.push(() => this.opts.onClockJump?.(event));
    }
    // After a backward jump nothing here is due yet: each firing waits for the wall clock to reach it again.
    let top: Entry | undefined;
    while ((top = this.heap.peek()) !== undefined && top.key <= now) this.settleDue(top, now, emits);
    this.rearm();
    this.emit(emits);
  };

  /**
   * Keeps the armed timer when it wakes no later than the earliest firing; otherwise arms one for that
   * firing or the next wall-clock check, whichever is sooner. With nothing resident, no timer runs.
   */
  private rearm(): void {
    const top = this.heap.peek();
    if (top && this.armedFor !== null && this.armedFor <= top.key) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedFor = null;
    if (!top) return;
    const now = this.opts.clock.now().getTime();
    const at = Math.min(top.key, now + WALL_CLOCK_CHECK_MS);
    this.armedFor = at;
    this.armedAt = now;
    this.cancelTimer = this.opts.clock.setTimer(new Date(at), this.onTimer);
  }

  /** Runs callbacks after the heap and timer are consistent, so a callback may call back in. */
  private emit(emits: Emit[]): void {
    let failed = false;
    let failure: unknown;
    for (const e of emits) {
      try {
        e();
      } catch (err) {
        if (!failed) [failed, failure] = [true, err];
      }
    }
    if (failed) throw failure;
  }
}
