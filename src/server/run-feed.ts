import type { RunRecord, RunStatus, Store } from '../store/types.js';

export interface RunFeedOptions {
  store: Store;
  /** How often the store is read while someone follows; default 1000 ms. */
  intervalMs?: number;
  /** How many of the most recent runs each look compares; default 200. */
  window?: number;
}

export interface RunSubscription {
  task?: string;
  status?: RunStatus[];
  send(run: RunRecord): void;
  /** Ends the follower's stream: the server is closing. */
  end(): void;
}

/**
 * New and changed runs, for `GET /api/v1/runs?follow=1`. It reads the store (not the engine), so it also
 * sees runs another engine on a shared store wrote; it only reads while someone follows, once per
 * interval for all followers.
 */
export class RunFeed {
  private readonly subscribers = new Set<RunSubscription>();
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private looking = false;
  private readonly intervalMs: number;
  private readonly window: number;

  constructor(private readonly opts: RunFeedOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.window = opts.window ?? 200;
  }

  /** Starts following; the returned function stops. The first look only records what exists. */
  async subscribe(sub: RunSubscription): Promise<() => void> {
    if (this.subscribers.size === 0) {
      this.seen.clear();
      await this.look(false);
      this.timer = setInterval(() => void this.look(true), this.intervalMs);
      this.timer.unref();
    }
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  get followers(): number {
    return this.subscribers.size;
  }

  /** Ends every follower's stream, so the server can close (an open stream is never idle). */
  endAll(): void {
    for (const sub of [...this.subscribers]) sub.end();
    this.subscribers.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(announce: boolean): Promise<void> {
    if (this.looking) return; // a slow store: skip a beat rather than pile up reads
    this.looking = true;
    try {
      const runs = await this.opts.store.listRuns({ limit: this.window });
      // Oldest first, so a follower sees runs in the order they were queued.
      for (const run of runs.reverse()) {
        // The whole record as its signature: a change of state, attempts or any field a newer store adds.
        const signature = JSON.stringify(run);
        if (this.seen.get(run.runId) === signature) continue;
        this.seen.set(run.runId, signature);
        if (announce) for (const sub of this.subscribers) if (matches(sub, run)) sub.send(run);
      }
      if (this.seen.size > this.window * 4) this.forgetAllBut(runs);
    } catch {
      // The next look tries again; a follower keeps its stream.
    } finally {
      this.looking = false;
    }
  }

  private forgetAllBut(recent: readonly RunRecord[]): void {
    const keep = new Set(recent.map((r) => r.runId));
    for (const id of this.seen.keys()) if (!keep.has(id)) this.seen.delete(id);
  }
}

function matches(sub: RunSubscription, run: RunRecord): boolean {
  if (sub.task !== undefined && run.task !== sub.task) return false;
  return !sub.status || sub.status.length === 0 || sub.status.includes(run.status);
}
