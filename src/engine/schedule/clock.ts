import { scheduleJob } from 'node-schedule';

/** Time as the scheduler sees it: injected so tests control it and never sleep. */
export interface Clock {
  /** The wall clock: it can jump (suspend and resume, an NTP step). */
  now(): Date;
  /**
   * Calls `fire` once when the time until `at`, as measured when the timer is set, has elapsed (soon, if
   * `at` is past); returns a cancel function. Timers count elapsed time, like setTimeout: after a wall-clock
   * jump they fire late or early by the jump, so the scheduler never arms one for more than a few seconds.
   */
  setTimer(at: Date, fire: () => void): () => void;
}

/** Wall time and node-schedule timers (long delays handled by its long-timeout). */
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
  /** Elapsed time (not wall time) at which it fires. */
  due: number;
  seq: number;
  fire: () => void;
}

/**
 * A clock that moves only when told, with a wall clock (now()) and an elapsed-time clock (what timers
 * count), as a real machine has. advanceTo/advanceBy move both and fire every due timer in time order
 * (ties in creation order), synchronously, with now() set to each timer's time as it fires; timers set
 * while firing fire too if due. A timer set at or before now() fires on the next advance (advanceBy(0)
 * will do). jumpTo moves the wall clock alone, as a resume from suspend or an NTP step does.
 */
export class ManualClock implements Clock {
  private elapsed = 0;
  /** now() - elapsed; only jumpTo changes it. */
  private offset: number;
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.offset = new Date(start).getTime();
    if (Number.isNaN(this.offset)) throw new Error(`ManualClock: invalid start ${String(start)}`);
  }

  now(): Date {
    return new Date(this.elapsed + this.offset);
  }

  setTimer(at: Date, fire: () => void): () => void {
    const timer: ManualTimer = { due: at.getTime() - this.offset, seq: this.seq++, fire };
    this.timers.push(timer);
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  advanceTo(date: Date | string | number): void {
    const target = new Date(date).getTime() - this.offset;
    if (target < this.elapsed) throw new Error('ManualClock cannot go back in time (jumpTo can)');
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.timers.length; i++) {
        const t = this.timers[i]!;
        if (t.due > target) continue;
        const best = next < 0 ? undefined : this.timers[next]!;
        if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) next = i;
      }
      if (next < 0) break;
      const [timer] = this.timers.splice(next, 1);
      this.elapsed = Math.max(this.elapsed, timer!.due);
      timer!.fire();
    }
    this.elapsed = target;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.now().getTime() + ms);
  }

  /**
   * Sets the wall clock, forward or back, without letting any time elapse: no timer fires now, and each
   * pending timer still fires after its remaining elapsed time, so late (forward jump) or early (backward)
   * by the wall clock, as setTimeout does after a suspend or an NTP step.
   */
  jumpTo(date: Date | string | number): void {
    const wall = new Date(date).getTime();
    if (Number.isNaN(wall)) throw new Error(`ManualClock: invalid time ${String(date)}`);
    this.offset = wall - this.elapsed;
  }
}
