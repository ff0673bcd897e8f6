import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';

interface Write {
  what: string;
  apply: () => unknown;
  /** Run synchronously right after the commit, before any promise settles (see enqueue). */
  committed: ((result: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the hot writes (events, run inserts and transitions): the writes asked for in one turn
 * of the event loop go into one BEGIN IMMEDIATE … COMMIT, each still its own compare-and-set statement, and
 * each caller's promise settles only once the commit is done, so a run is stored before its action starts
 * and its outcome before it is reported. A write that fails rolls the group back; the group's writes are
 * then made one by one, so only the failing one fails (a locked store fails them all at once: each alone
 * would wait the busy timeout again).
 */
export class GroupCommit {
  private queue: Write[] = [];
  /** Writes nothing waits on: they ride along in the next group, or commit on their own after a delay. */
  private lazy: Write[] = [];
  private lazyTimer: NodeJS.Timeout | null = null;
  private readonly group: Database.Transaction<(writes: Write[]) => unknown[]>;
  /** Groups committed and writes in them, for the benches. */
  commits = 0;
  writes = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly translate: (err: unknown, what: string) => Error,
  ) {
    this.group = db.transaction((writes: Write[]) => writes.map((w) => w.apply()));
  }

  /**
   * `apply` runs in the next group; resolves with its result once that group is committed. `committed` is
   * called with the result right after the commit, before any promise settles: what must follow the write
   * with nothing in between (a run's task-log line: other runs' continuations, a process spawned, could
   * otherwise come first, and a kill -9 there would lose the line of a run the store says ended).
   */
  enqueue<T>(what: string, apply: () => T, committed?: (result: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        what,
        apply,
        committed: committed as ((result: unknown) => void) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.queue.length === 1) process.nextTick(() => this.flush());
    });
  }

  /**
   * Like enqueue, but the write starts no group of its own: it goes into the next group another write
   * starts, or commits after `maxDelayMs` if none does. For a write no caller waits on (a task-log mark),
   * which would otherwise add a commit, and its latency to the next turn's, under load.
   */
  enqueueLazy<T>(what: string, apply: () => T, maxDelayMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.lazy.push({
        what,
        apply,
        committed: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.lazyTimer ??= setTimeout(() => {
        this.lazyTimer = null;
        this.flush();
      }, maxDelayMs);
    });
  }

  /**
   * Commits what is waiting now. Every other store call does this first, so it sees every write asked for
   * before it, in the order asked, as when each write committed on its own.
   */
  flush(): void {
    if (this.queue.length === 0 && this.lazy.length === 0) return;
    const writes = this.lazy.length === 0 ? this.queue : [...this.lazy, ...this.queue];
    this.queue = [];
    if (this.lazy.length > 0) {
      this.lazy = [];
      if (this.lazyTimer) clearTimeout(this.lazyTimer);
      this.lazyTimer = null;
    }
    try {
      const results = this.group.immediate(writes);
      this.commits++;
      this.writes += writes.length;
      writes.forEach((w, i) => afterCommit(w, results[i]));
      writes.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      const failed = this.translate(
        err,
        writes.length === 1 ? writes[0]!.what : `store ${writes.length} writes`,
      );
      if (writes.length === 1 || (failed instanceof StoreError && failed.code === 'locked')) {
        writes.forEach((w) => w.reject(writes.length === 1 ? failed : this.translate(err, w.what)));
        return;
      }
      for (const w of writes) {
        try {
          const result = this.db.transaction(w.apply).immediate();
          this.commits++;
          this.writes++;
          afterCommit(w, result);
          w.resolve(result);
        } catch (one) {
          w.reject(this.translate(one, w.what));
        }
      }
    }
  }
}

/** A write's `committed` hook; one that throws must not stop the others or undo what was committed. */
function afterCommit(w: Write, result: unknown): void {
  try {
    w.committed?.(result);
  } catch {
    // the hook reports its own failures (the task log logs them)
  }
}
