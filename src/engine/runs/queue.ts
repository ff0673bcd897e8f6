import type { TaskSpec } from '../../manifest/types.js';
import type { EngineEvent, RunRecord } from '../../store/types.js';

export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';

/** A run admitted to the queue: waiting for a slot, then executing until it settles. */
export interface Job {
  run: RunRecord;
  /** The task as it was when the run was admitted. */
  spec: TaskSpec;
  /** The event that caused the run, for ${NAME} and ${FIELD_x}; null for schedules and manual runs. */
  event: EngineEvent | null;
  /** Task and target: concurrency policies apply per key, so the members of a tag run side by side. */
  key: string;
  policy: ConcurrencyPolicy;
  controller: AbortController;
}

export type Admission = 'queued' | 'skipped';

/**
 * Bounded-concurrency FIFO with per-key policies. States: pending (waiting for a slot) → running → settled.
 * forbid: a new job for a busy key is skipped; replace: the busy key's jobs are aborted, the new one queued.
 */
export class RunQueue {
  private readonly pending: Job[] = [];
  private readonly busy = new Map<string, Set<Job>>();
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly execute: (job: Job) => Promise<void>,
  ) {}

  admit(job: Job): Admission {
    const current = this.busy.get(job.key);
    if (current && current.size > 0) {
      if (job.policy === 'forbid') return 'skipped';
      if (job.policy === 'replace') {
        for (const other of current)
          other.controller.abort(new Error('replaced by a newer run (concurrency: replace)'));
      }
    }
    if (!current) this.busy.set(job.key, new Set([job]));
    else current.add(job);
    this.pending.push(job);
    this.pump();
    return 'queued';
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.pending.length + this.running;
  }

  /** Every job running now, for shutdown. */
  activeJobs(): Job[] {
    return [...this.busy.values()].flatMap((set) => [...set]);
  }

  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      this.execute(job)
        .catch(() => undefined) // the executor records its own failures; a bug here must not stall the queue
        .finally(() => {
          this.running--;
          const set = this.busy.get(job.key);
          set?.delete(job);
          if (set && set.size === 0) this.busy.delete(job.key);
          this.pump();
          if (this.size === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            waiters.forEach((w) => w());
          }
        });
    }
  }
}
