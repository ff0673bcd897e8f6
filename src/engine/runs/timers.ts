import type { Clock } from '../schedule/index.js';

interface Entry {
  at: number;
  /** Order of creation: entries due at the same instant fire in it. */
  seq: number;
  fire: () => void;
  /** Where it sits in `entries` while pending; -1 once fired or cancelled. */
  index: number;
}

/**
 * Many deadlines on the injected clock through one clock timer, armed for the earliest: run timeouts, the
 * next attempts of delayed runs, store-write retries. A clock timer per run would cost a node-schedule job
 * each on the system clock; here only a deadline earlier than every other re-arms it.
 */
export class ClockTimers {
  // An array with swap-removal, not a Set: a run adds and cancels one deadline, and a Set resized as its size
  // moved left its old table in old space still pointing at those entries' runs, which every young collection
  // then kept alive (an array's storage only grows, and rarely).
  private readonly entries: Entry[] = [];
  private seq = 0;
  private armed: { at: number; cancel: () => void } | null = null;

  constructor(private readonly clock: Clock) {}

  /** Calls `fire` once at `at` (soon, if `at` is past); returns a cancel function. */
  at(at: Date, fire: () => void): () => void {
    const entry: Entry = { at: at.getTime(), seq: this.seq++, fire, index: this.entries.length };
    this.entries.push(entry);
    if (!this.armed || entry.at < this.armed.at) this.arm(entry.at);
    // The armed timer stays when its entry goes: it fires, finds nothing due, and re-arms for what is left. Not
    // disarming keeps a run's timeout (added and cancelled once per run) from arming a clock timer each time.
    return () => this.remove(entry);
  }

  /** Resolves after `ms` of clock time; rejects with the signal's reason when it aborts first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        cancel();
        reject(signal!.reason as Error);
      };
      const cancel = this.at(new Date(this.clock.now().getTime() + ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Cancels everything (engine stop). */
  clear(): void {
    for (const e of this.entries) e.index = -1;
    this.entries.length = 0;
    this.disarm();
  }

  get size(): number {
    return this.entries.length;
  }

  private remove(entry: Entry): void {
    const i = entry.index;
    if (i < 0) return;
    const last = this.entries.pop()!;
    if (last !== entry) {
      this.entries[i] = last;
      last.index = i;
    }
    entry.index = -1;
  }

  private arm(at: number): void {
    this.disarm();
    const cancel = this.clock.setTimer(new Date(at), () => {
      this.armed = null;
      this.fireDue();
    });
    this.armed = { at, cancel };
  }

  private disarm(): void {
    this.armed?.cancel();
    this.armed = null;
  }

  private fireDue(): void {
    const now = this.clock.now().getTime();
    const due = this.entries.filter((e) => e.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const e of due) this.remove(e);
    let next = Infinity;
    for (const e of this.entries) next = Math.min(next, e.at);
    if (next !== Infinity) this.arm(next);
    for (const e of due) e.fire();
  }
}
