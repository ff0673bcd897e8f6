import { scheduleJob } from 'node-schedule';

/** Time as the scheduler sees it: injected so tests control it and never sleep. */
export interface Clock {
  now(): Date;
  /** Calls `fire` once at `at` (soon, if `at` is past); returns a cancel function. */
  setTimer(at: Date, fire: () => void): () => void;
}

/** Wall time and node-schedule timers. The scheduler keeps only one timer armed at a time. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(at, fire) {
    const job = scheduleJob(at, fire);
    if (job === null) {
      // node-schedule refuses dates in the past; a timer that is already due fires on the next turn.
      const immediate = setImmediate(fire);
      return () => clearImmediate(immediate);
    }
    return () => {
      job.cancel();
    };
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * A clock that moves only when told. advanceTo/advanceBy fire every due timer
 * in time order (ties in creation order), synchronously, with now() set to
 * each timer's time as it fires; timers set while firing fire too if due.
 * A timer set at or before now() fires on the next advance (advanceBy(0) will do).
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
    if (Number.isNaN(this.current)) throw new Error(`ManualClock: invalid start ${String(start)}`);
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(at: Date, fire: () => void): () => void {
    const timer: ManualTimer = { at: at.getTime(), seq: this.seq++, fire };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  advanceTo(date: Date | string | number): void {
    const target = new Date(date).getTime();
    if (target < this.current) throw new Error('ManualClock cannot go back in time');
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.current = target;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }
}
