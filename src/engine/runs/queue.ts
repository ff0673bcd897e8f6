import type { TaskSpec } from '../../manifest/types.js';
import type { EngineEvent, RunRecord, WaitingRunStatus } from '../../store/types.js';
import type { LazyAbortController } from './abort.js';
import { Deque } from './deque.js';

export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';

/** A run this engine handles: waiting for a slot, executing, or parked until its next attempt is due. */
export interface Job {
  run: RunRecord;
  /** The task as it was when the run was admitted. */
  spec: TaskSpec;
  /** The event that caused the run, for ${NAME} and ${FIELD_x}; null for schedules and manual runs. */
  event: EngineEvent | null;
  /** Task and target: concurrency policies apply per key, so the members of a tag run side by side. */
  key: string;
  policy: ConcurrencyPolicy;
  controller: LazyAbortController;
  /** The stored state the run must be claimed from; null when it was stored already running (ours). */
  claimFrom: WaitingRunStatus | null;
}

/** `start`: a slot is held for it now. `wait`: it waits for one. `skip`: forbidden while another one goes. */
export type Admission = 'start' | 'wait' | 'skip';

/**
 * Bounded concurrency with per-key policies, in two steps so a run can be stored in the state its admission
 * decided: `reserve` decides (and holds a slot for `start`) synchronously, `commit` hands the job over once
 * stored, or `release` drops it. Parked jobs (delayed runs) keep their key busy but hold no slot.
 * forbid: a new job for a busy key is skipped; replace: the new one is admitted, and the busy key's jobs are
 * aborted once it is stored (`commit`).
 */
export class RunQueue {
  private readonly pending = new Deque<Job>();
  private readonly busy = new Map<string, Set<Job>>();
  /** The jobs of `busy` by run id: recovery asks about each waiting run in the store, so it is O(1). */
  private readonly byRunId = new Map<string, Job>();
  private readonly reserved = new Set<Job>();
  private readonly parked = new Set<Job>();
  /** A `replace` job admitted and not yet stored: the jobs it stops once it is. */
  private readonly replacing = new Map<Job, Job[]>();
  /** Slots held: jobs claiming or in their driver. */
  private running = 0;
  /** Jobs launched and not yet done; a job recording its end has given its slot back already. */
  private launched = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly maxConcurrent: number,
    /** Runs the job; `freeSlot` gives its slot to the next job before the end is recorded. */
    private readonly execute: (job: Job, freeSlot: () => void) => Promise<void>,
    /** A failure the executor did not handle itself: reported, never swallowed, and the queue goes on. */
    private readonly onError: (job: Job, err: unknown) => void,
  ) {}

  reserve(job: Job): Admission {
    const current = this.busy.get(job.key);
    if (current && current.size > 0) {
      if (job.policy === 'forbid') return 'skip';
      // Aborted only once the new run is stored (commit): an engine whose run lost the store's race (another
      // replica stored that slot or event first) must not have stopped its older run for nothing.
      if (job.policy === 'replace') this.replacing.set(job, [...current]);
    }
    this.hold(job);
    if (this.running < this.maxConcurrent && this.pending.length === 0) {
      this.running++;
      this.reserved.add(job);
      return 'start';
    }
    return 'wait';
  }

  /** The job is stored: a `start` job executes now, a `wait` job joins the line. */
  commit(job: Job): void {
    for (const other of this.replacing.get(job) ?? [])
      other.controller.abort(new Error('replaced by a newer run (concurrency: replace)'));
    this.replacing.delete(job);
    if (this.reserved.delete(job)) this.launch(job);
    else {
      this.pending.push(job);
      this.pump();
    }
  }

  /** The job will not run here (its run was there already, or could not be stored). */
  release(job: Job): void {
    this.replacing.delete(job);
    if (this.reserved.delete(job)) this.running--;
    this.letGo(job);
    this.pump();
  }

  /** A delayed run: its key stays busy until `wake`, but it holds no slot. */
  park(job: Job): void {
    this.hold(job);
    this.parked.add(job);
    this.settle();
  }

  /** A delayed run already due: it waits for a slot like any other, whatever the policy (it is the same run). */
  enqueue(job: Job): void {
    this.hold(job);
    this.pending.push(job);
    this.pump();
  }

  /** A parked job is due: it waits for a slot like any other. */
  wake(job: Job): void {
    if (!this.parked.delete(job)) return;
    this.pending.push(job);
    this.pump();
  }

  /** Drops a parked job (cancelled, or the engine stops); true when it was parked. */
  unpark(job: Job): boolean {
    if (!this.parked.delete(job)) return false;
    this.letGo(job);
    this.settle();
    return true;
  }

  /** Jobs waiting for a slot or executing (parked ones not counted). */
  get size(): number {
    return this.pending.length + this.launched;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.pending.length;
  }

  get parkedJobs(): Job[] {
    return [...this.parked];
  }

  /** Every job executing or waiting now (not parked), for shutdown. */
  activeJobs(): Job[] {
    return [...this.busy.values()].flatMap((set) => [...set]).filter((job) => !this.parked.has(job));
  }

  /** Whether this queue handles the run now (waiting, executing or parked). */
  has(runId: string): boolean {
    return this.byRunId.has(runId);
  }

  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private hold(job: Job): void {
    this.byRunId.set(job.run.runId, job);
    const current = this.busy.get(job.key);
    if (!current) this.busy.set(job.key, new Set([job]));
    else current.add(job);
  }

  private letGo(job: Job): void {
    const set = this.busy.get(job.key);
    set?.delete(job);
    if (this.byRunId.get(job.run.runId) === job) this.byRunId.delete(job.run.runId);
    if (set && set.size === 0) this.busy.delete(job.key);
  }

  private launch(job: Job): void {
    this.launched++;
    let holdsSlot = true;
    // The next job's claim then joins the same store commit as this job's end: one commit serves both.
    const freeSlot = () => {
      if (!holdsSlot) return;
      holdsSlot = false;
      this.running--;
      this.pump();
    };
    void this.execute(job, freeSlot)
      .catch((err: unknown) => this.onError(job, err))
      .finally(() => {
        this.launched--;
        if (!this.parked.has(job)) {
          this.letGo(job);
          forget(job);
        }
        freeSlot();
        this.settle();
      });
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      this.launch(job);
    }
  }

  private settle(): void {
    if (this.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((w) => w());
  }
}

/**
 * Drops a job's run and event once the queue is done with it (nothing reads a job after that). The maps and
 * sets that held it (by run id, by key, the runner's active runs) are resized as runs come and go, and each
 * resize leaves its old table in old space, still pointing at the jobs it held, until a full collection: a
 * job that lets go of its run keeps only itself alive there, not its run, event and everything they hold
 * (under load, a third of what each young collection copied).
 */
function forget(job: Job): void {
  (job as { run: RunRecord | null }).run = null;
  job.event = null;
}
