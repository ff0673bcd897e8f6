import { builtInDriver } from '../../manifest/drivers.js';
import type { TaskSpec } from '../../manifest/types.js';
import { AUDIT_SETTLED_MS, commitAudited, recoverAudit } from '../../store/audit.js';
import type {
  DeliveryIdentity,
  EngineEvent,
  EventFieldValue,
  InsertRunsOptions,
  RunAttempt,
  RunRecord,
  RunTrigger,
  Store,
} from '../../store/types.js';
import type { DriverRegistry, DriverResult } from '../drivers/index.js';
import type { Clock } from '../schedule/index.js';
import type { EngineState } from '../state.js';
import { endKey, type TaskLogWriter } from '../tasklog.js';
import type { EngineLogger, EventInput } from '../types.js';
import { disableWebhook, disabledReason } from '../disabled-webhooks.js';
import { LazyAbortController } from './abort.js';
import { executeRun, prepareDelivery, type ExecuteInput } from './execute.js';
import { RecordingMonitor } from './health.js';
import { RunQueue, type Admission, type Job } from './queue.js';
import { resolveTargets, type ResolvedTargets } from './targets.js';
import { ClockTimers } from './timers.js';

export interface RunnerOptions {
  store: Store;
  drivers: DriverRegistry;
  clock: Clock;
  random: () => number;
  log: EngineLogger;
  taskLog: TaskLogWriter;
  dataDir: string;
  defaultZone: string;
  maxConcurrentRuns: number;
  /** This engine instance: the owner of the runs it executes. */
  owner: string;
  /** How long a claim holds without renewal; renewed every third of it while the run executes. */
  leaseMs: number;
  /** The engine's current live state (it is replaced on every reload). */
  state(): EngineState;
  /** False once the engine is shutting down. */
  accepting(): boolean;
  /** Stores and processes one of the engine's own events (tasks/failed, webhooks/exhausted). */
  emitSystemEvent(input: EventInput): Promise<unknown>;
  /** The engine's own events about a run's end, stored with the end itself (`RunOutcome.events`). */
  endEvents: {
    /** The event, as `emitSystemEvent` would store it. */
    make(input: EventInput): EngineEvent;
    /** True when no trigger listens: it is stored already processed. */
    firesNothing(event: EngineEvent): boolean;
    /** Starts the runs of one stored pending (in the background). */
    process(event: EngineEvent): void;
  };
  onRunFinished?(run: RunRecord, result: DriverResult | null): void;
}

/** What starts runs: a task, its trigger, and how to name the run of each target. */
export interface RunRequest {
  task: string;
  spec: TaskSpec;
  trigger: RunTrigger;
  event: EngineEvent | null;
  idFor(target: string | null): string;
  /** A replay's delivery: the webhook-id and body of the run it re-sends, instead of new ones. */
  delivery?: DeliveryIdentity;
}

/** An interrupted run is retried at most this many times, so a run that kills the engine cannot loop forever. */
export const MAX_INTERRUPTIONS = 3;
const FORBIDDEN = 'a previous run of this task on this target is still going (concurrency: forbid)';
/** Store writes that fail are retried after 0.5 s, 1 s, 2 s … up to this. */
const WRITE_RETRY_CAP_MS = 30_000;
/** Waiting runs left by other processes are looked for at most this many at a time. */
const ADOPT_BATCH = 1000;
/** Ended runs written to the task log per sweep transaction, when a crash left their lines out. */
const LOG_SWEEP_BATCH = 1000;
const GAVE_UP = Symbol('gave up');

/**
 * What a run's driver is called with; its abort signal is made only if the driver reads it (LazyAbortController).
 * The getter sits on the prototype: one in an object literal is a closure per run and gives each object a hidden
 * class of its own, kept in old space, which kept every run's objects alive through the young collections.
 */
class RunInput implements ExecuteInput {
  constructor(
    readonly run: RunRecord,
    readonly task: TaskSpec,
    readonly state: EngineState,
    readonly drivers: DriverRegistry,
    readonly event: EngineEvent | null,
    readonly now: Date,
    readonly zone: string,
    readonly random: () => number,
    private readonly controller: LazyAbortController,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }
}

/**
 * The life of a run (docs/engine.md): stored queued, or straight as running when a slot is free; claimed
 * (queued | delayed → running) under a lease; one attempt through its driver, bounded by the task timeout;
 * then finished, or delayed until its next attempt when the driver asks for a retry. Every transition is a
 * store compare-and-set: when another engine won, this one does nothing. Refused writes are retried with
 * backoff on the clock and shown in `health`; a run whose end cannot be recorded is left to its lease.
 */
export class Runner {
  readonly health = new RecordingMonitor();
  private readonly queue: RunQueue;
  private readonly timers: ClockTimers;
  /** Attempts executing now, by run id: their leases are renewed. */
  private readonly active = new Map<string, Job>();
  private readonly wakeups = new Map<Job, () => void>();
  private readonly stopping = new AbortController();
  private tickCancel: (() => void) | null = null;
  private tickInFlight: Promise<void> | null = null;
  private sweeping = false;
  /** Ended runs whose task-log line is written, to mark logged in the store together (one write per turn). */
  private loggedIds: string[] = [];
  private readonly marking = new Set<Promise<void>>();

  constructor(private readonly opts: RunnerOptions) {
    this.timers = new ClockTimers(opts.clock);
    this.queue = new RunQueue(
      opts.maxConcurrentRuns,
      (job, freeSlot) => this.execute(job, freeSlot),
      (job, err) => opts.log.error('run step failed', { runId: job.run.runId, error: String(err) }),
    );
  }

  /** Runs waiting for a slot or executing (delayed runs not counted). */
  get size(): number {
    return this.queue.size;
  }

  /** Runs waiting for a slot. */
  get waiting(): number {
    return this.queue.waiting;
  }

  /** Resolves when nothing executes or waits for a slot; with `delayed`, also when no run waits for a retry. */
  async whenIdle(opts: { delayed?: boolean } = {}): Promise<void> {
    for (;;) {
      if (this.tickInFlight) await this.tickInFlight;
      await this.queue.whenIdle();
      if (opts.delayed && this.queue.parkedJobs.length > 0) {
        // Delayed runs wake on the clock; a one-shot command looks again shortly (real time, it only polls).
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (!this.tickInFlight && this.queue.size === 0) {
        // Marks handed to the store now commit before anything later reads or writes it.
        void this.markWritten();
        return;
      }
    }
  }

  /**
   * Starts the lease renewals; with `recover`, first settles what a stopped engine left (expired leases,
   * waiting runs) and keeps doing so on every renewal, as the one long-running engine (`serve`) does.
   */
  async begin(recover: boolean): Promise<void> {
    this.sweeping = recover;
    if (recover) await this.sweep();
    this.armTick();
  }

  /** Stops renewals and parked runs' timers (they stay delayed in the store); executing runs go on. */
  pause(): void {
    this.tickCancel?.();
    this.tickCancel = null;
    for (const job of this.queue.parkedJobs) {
      this.wakeups.get(job)?.();
      this.wakeups.delete(job);
      this.queue.unpark(job);
    }
  }

  /**
   * The end of a stop: with `attempts`, the shutdown deadline passed and every attempt still executing is
   * stopped, recorded as interrupted, and runs again at the next start. Pending write retries then give up.
   */
  async interruptAll(attempts = true): Promise<void> {
    if (attempts) for (const job of this.queue.activeJobs()) job.controller.abort(new ShutdownAbort());
    this.stopping.abort(new ShutdownAbort());
    await this.queue.whenIdle();
    this.timers.clear();
    await this.markWritten();
  }

  /** Waits `ms` of clock time, or until the engine stops. */
  async pauseFor(ms: number): Promise<void> {
    await this.timers.wait(ms, this.stopping.signal).catch(() => undefined);
  }

  /**
   * One run per target of each request (each tag member, the named object, or none), stored in one
   * transaction with `processedEvent` marked processed or the `firing` slot recorded, then started. A run
   * already stored (the same event or firing again), or one of a slot already recorded, is left alone.
   * Returns the runs stored now.
   */
  async startRuns(requests: readonly RunRequest[], opts: InsertRunsOptions = {}): Promise<RunRecord[]> {
    // Targets first: a Tag whose members live in VergeOS is read now, before anything is stored.
    const resolved: ResolvedTargets[] = [];
    for (const req of requests) resolved.push(await this.targetsOf(req.spec));
    const now = this.opts.clock.now();
    const planned: Array<{ job: Job; admission: Admission | 'unresolved' }> = [];
    requests.forEach((req, i) => {
      const targets = resolved[i]!;
      if (!targets.ok) {
        // The trigger still leaves a trace: one failed run that says why no target could be read.
        const run = this.newRun(req.task, req.spec, req.idFor(null), req.trigger, null);
        const job = this.jobFor(run, req.spec, req.event);
        job.run = unresolvedRun(run, targets.error, now);
        planned.push({ job, admission: 'unresolved' });
        return;
      }
      for (const target of targets.targets) {
        const run = this.newRun(req.task, req.spec, req.idFor(target), req.trigger, target);
        if (req.delivery) run.delivery = req.delivery;
        const job = this.jobFor(run, req.spec, req.event);
        const admission = this.queue.reserve(job);
        if (admission === 'skip') job.run = skippedRun(run, FORBIDDEN, now);
        else if (admission === 'start') job.run = this.startedRun(job, now);
        else job.claimFrom = 'queued';
        planned.push({ job, admission });
      }
    });
    const reserved = (admission: Admission | 'unresolved') =>
      admission !== 'skip' && admission !== 'unresolved';
    let inserted: boolean[];
    try {
      inserted = await this.opts.store.insertRuns(
        planned.map((p) => p.job.run),
        opts,
      );
    } catch (err) {
      for (const p of planned) if (reserved(p.admission)) this.queue.release(p.job);
      throw err;
    }
    const runs: RunRecord[] = [];
    const unresolved: Job[] = [];
    planned.forEach(({ job, admission }, i) => {
      if (!inserted[i]) {
        if (reserved(admission)) this.queue.release(job);
        return;
      }
      runs.push(job.run);
      if (admission === 'unresolved') unresolved.push(job);
      else if (admission === 'skip') this.ended(job.run, null);
      else this.queue.commit(job);
    });
    for (const job of unresolved) {
      const result: DriverResult = { ok: false, attempts: 0, error: job.run.error ?? 'failed' };
      this.ended(job.run, result);
      await this.afterRun(job.run, job.spec, result, job.event);
    }
    return runs;
  }

  /** The objects a trigger acts on, bounded by the task timeout when they are read from another system. */
  private targetsOf(spec: TaskSpec): Promise<ResolvedTargets> {
    const timeoutMs = (spec.timeoutSeconds ?? 300) * 1000;
    // Real time: a look-up over the network is bounded like a socket, whatever the engine's clock says.
    const signal = () => AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]);
    return resolveTargets(spec, this.opts.state(), this.opts.drivers, signal);
  }

  /** A queued run record, not yet stored. */
  newRun(task: string, spec: TaskSpec, runId: string, trigger: RunTrigger, target: string | null): RunRecord {
    return {
      runId,
      task,
      status: 'queued',
      trigger,
      target: { objectType: spec.objectType, name: target },
      queuedAt: this.opts.clock.now().toISOString(),
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      attempts: 0,
      error: null,
      details: null,
      attemptStartedAt: null,
      nextAttemptAt: null,
      owner: null,
      leaseUntil: null,
      interruptions: 0,
      attemptLog: [],
      delivery: null,
    };
  }

  /** Stores runs that never started, with why (a missed firing), in one transaction; returns those stored now. */
  async recordSkipped(
    runs: readonly RunRecord[],
    reason: string,
    opts: InsertRunsOptions = {},
  ): Promise<RunRecord[]> {
    const now = this.opts.clock.now();
    const done = runs.map((run) => skippedRun(run, reason, now));
    const inserted = await this.opts.store.insertRuns(done, opts);
    const stored = done.filter((_, i) => inserted[i]);
    for (const run of stored) this.ended(run, null);
    return stored;
  }

  private jobFor(run: RunRecord, spec: TaskSpec, event: EngineEvent | null): Job {
    return {
      run,
      spec,
      event,
      key: `${run.task}\u0000${run.target.name ?? ''}`,
      policy: spec.concurrency ?? 'forbid',
      controller: new LazyAbortController(),
      claimFrom: null,
    };
  }

  /** The record of a run stored straight as running, owned by this engine: its first attempt starts now. */
  private startedRun(job: Job, now: Date): RunRecord {
    const run: RunRecord = {
      ...job.run,
      status: 'running',
      owner: this.opts.owner,
      leaseUntil: new Date(now.getTime() + this.opts.leaseMs).toISOString(),
      attempts: 1,
      startedAt: now.toISOString(),
      attemptStartedAt: now.toISOString(),
    };
    return { ...run, delivery: prepareDelivery(this.input({ ...job, run }, job.spec, now)) };
  }

  private input(job: Job, task: TaskSpec, now: Date): ExecuteInput {
    const { run } = job;
    const schedule =
      run.trigger.kind === 'schedule' && run.trigger.name
        ? this.opts.state().schedules.get(run.trigger.name)
        : undefined;
    return new RunInput(
      run,
      task,
      this.opts.state(),
      this.opts.drivers,
      job.event,
      now,
      schedule?.timezone ?? this.opts.defaultZone,
      this.opts.random,
      job.controller,
    );
  }

  /** The task as the live state has it; a deleteAfterRun task retired by one member still runs for the others. */
  private taskOf(job: Job): TaskSpec | undefined {
    const state = this.opts.state();
    return state.tasks.get(job.run.task) ?? (state.retired.has(job.run.task) ? job.spec : undefined);
  }

  private async execute(job: Job, freeSlot: () => void): Promise<void> {
    if (job.claimFrom && !(await this.claim(job))) return;
    await this.attempt(job, freeSlot);
  }

  /** queued | delayed → running for this engine; false when it must not run here (lost, gone, stopping). */
  private async claim(job: Job): Promise<boolean> {
    const from = job.claimFrom!;
    const { runId } = job.run;
    // Stopped before it started: it stays waiting in the store and runs at the next start.
    if (job.controller.reason instanceof ShutdownAbort || !this.opts.accepting()) return false;
    if (job.controller.aborted) return this.cancel(job, abortMessage(job.controller.reason));
    const task = this.taskOf(job);
    if (!task) return this.cancel(job, `Task/${job.run.task} no longer exists in the live state`);
    const now = this.opts.clock.now();
    let claimed: RunRecord | null;
    try {
      claimed = await this.opts.store.claimRun(
        runId,
        from,
        {
          owner: this.opts.owner,
          at: now,
          leaseUntil: new Date(now.getTime() + this.opts.leaseMs),
          delivery: prepareDelivery(this.input(job, task, now)),
        },
        job.run,
      );
      this.health.settled(runId);
    } catch (err) {
      // Still waiting in the store: try the claim again later.
      const retryInMs = 5000;
      this.writeFailed(runId, 'start', err, retryInMs);
      this.park(job, new Date(now.getTime() + retryInMs));
      return false;
    }
    if (!claimed) {
      this.opts.log.info('run not started here: another engine took it, or it ended', { runId });
      return false;
    }
    job.run = claimed;
    job.spec = task;
    job.claimFrom = null;
    return true;
  }

  /** Ends a run that waits (queued → skipped, delayed → cancelled); returns false (nothing to execute). */
  private async cancel(job: Job, reason: string): Promise<false> {
    const from = job.claimFrom!;
    const end = {
      status: from === 'queued' ? 'skipped' : 'cancelled',
      at: this.opts.clock.now(),
      error: reason,
    } as const;
    const done = await this.record(job.run.runId, 'end', () =>
      this.opts.store.cancelRun(job.run.runId, from, end),
    );
    if (done !== GAVE_UP && done) this.ended(done, null);
    return false;
  }

  /** One attempt through the driver, under the task timeout; then the run is finished or delayed. */
  private async attempt(job: Job, freeSlot: () => void): Promise<void> {
    const { run, spec: task } = job;
    const started = this.opts.clock.now();
    const timeoutSeconds = task.timeoutSeconds ?? 300;
    this.active.set(run.runId, job);
    const cancelTimeout = this.timers.at(new Date(started.getTime() + timeoutSeconds * 1000), () =>
      job.controller.abort(new Error(`timed out after ${timeoutSeconds}s (timeoutSeconds)`)),
    );
    let result: DriverResult;
    try {
      const disabled = await this.webhookDisabled(task);
      result = disabled
        ? { ok: false, attempts: 0, error: disabled }
        : await executeRun(this.input(job, task, started));
      if (result.disable) await this.disableWebhook(task, run.runId, result.disable);
    } finally {
      cancelTimeout();
      this.active.delete(run.runId);
      // The driver is done: the slot bounds actions in flight, not records being written.
      freeSlot();
    }
    const finished = this.opts.clock.now();
    const reason: unknown = job.controller.reason;
    if (reason instanceof LeaseLost) {
      this.opts.log.warn('run attempt ended after this engine lost its lease: its outcome is dropped', {
        runId: run.runId,
        ok: result.ok,
      });
      return;
    }
    const interrupted = reason instanceof ShutdownAbort;
    const error = result.ok ? null : (result.error ?? 'failed');
    const attempt: RunAttempt = {
      attempt: run.attempts,
      at: started.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      outcome: result.ok ? 'succeeded' : interrupted ? 'interrupted' : 'failed',
      ...(error ? { error } : {}),
    };
    const details = result.details ?? null;
    if (interrupted && run.interruptions < MAX_INTERRUPTIONS) {
      await this.delay(job, { nextAttemptAt: finished, attempt, error, details }, finished);
      return;
    }
    if (!interrupted && !result.ok && result.retryInMs !== undefined && !job.controller.aborted) {
      const nextAttemptAt = new Date(finished.getTime() + result.retryInMs);
      await this.delay(job, { nextAttemptAt, attempt, error, details }, finished);
      return;
    }
    const status = result.ok ? 'succeeded' : interrupted ? 'interrupted' : 'failed';
    const durationMs = finished.getTime() - Date.parse(run.startedAt ?? started.toISOString());
    // A driver that refused before acting (a bad argument, a missing secret) made no attempt.
    const acted = result.attempts > 0 || interrupted;
    const events =
      status === 'interrupted'
        ? []
        : this.endEventInputs(run, task, result, job.event, error, run.attempts - (acted ? 0 : 1)).map(
            (input) => {
              const event = this.opts.endEvents.make(input);
              return { event, processed: this.opts.endEvents.firesNothing(event) };
            },
          );
    const done = await this.record(run.runId, 'record the end of', () =>
      this.opts.store.finishRun(
        run.runId,
        this.opts.owner,
        {
          status,
          at: finished,
          durationMs,
          attempt,
          error,
          details,
          acted,
          events,
          onRecorded: (ended) => this.logEnd(ended),
        },
        run,
      ),
    );
    if (done === GAVE_UP) return;
    if (!done) {
      this.opts.log.warn(
        'run recovered by another engine before its end was recorded: its outcome is dropped',
        {
          runId: run.runId,
        },
      );
      return;
    }
    // Its task-log line went out as the end was stored (onRecorded).
    this.opts.onRunFinished?.(done, result);
    for (const { event, processed } of events) if (!processed) this.opts.endEvents.process(event);
    // `keep` is stored with the run (run --keep), so a kept run recovered after a crash still keeps its task.
    if (status !== 'interrupted') await this.retireAfterRun(done, task, done.trigger.keep === true);
  }

  /**
   * The engine's own events about a run's end: tasks/succeeded|failed, and webhooks/exhausted when a delivery
   * gave up. None for runs caused by the engine's own events, so an alert task that fails cannot alert on
   * itself forever, and none once the engine stops.
   */
  private endEventInputs(
    run: RunRecord,
    task: TaskSpec,
    result: DriverResult,
    cause: EngineEvent | null,
    error: string | null,
    attempts: number,
  ): EventInput[] {
    if (cause?.origin === 'engine' || !this.opts.accepting()) return [];
    const fields: Record<string, EventFieldValue> = { runId: run.runId, target: run.target.name ?? '' };
    if (error) fields.error = error;
    const inputs: EventInput[] = [
      { type: 'tasks', name: result.ok ? 'succeeded' : 'failed', object: run.task, fields },
    ];
    if (result.exhausted && builtInDriver(task.objectType)?.deliveries) {
      inputs.push({
        type: 'webhooks',
        name: 'exhausted',
        object: task.target?.name ?? null,
        fields: {
          task: run.task,
          runId: run.runId,
          attempts,
          error: error ?? '',
          lastError: result.lastError ?? error ?? '',
        },
      });
    }
    return inputs;
  }

  /** Why a webhook task must not send now (its webhook answered 410 Gone), or null. */
  private async webhookDisabled(task: TaskSpec): Promise<string | null> {
    if (builtInDriver(task.objectType)?.target !== 'webhook' || !task.target?.name) return null;
    const spec = this.opts.state().webhooks.get(task.target.name);
    return spec ? disabledReason(this.opts.store, task.target.name, spec) : null;
  }

  private async disableWebhook(task: TaskSpec, runId: string, answer: { status: number; at: string }) {
    const name = task.target?.name;
    const spec = name ? this.opts.state().webhooks.get(name) : undefined;
    if (!name || !spec) return;
    try {
      await disableWebhook(this.opts.store, name, spec, { ...answer, runId });
    } catch (err) {
      this.opts.log.error('could not record that a webhook is disabled', {
        webhook: name,
        error: String(err),
      });
      return;
    }
    this.opts.log.warn('webhook disabled: the receiver answered 410 Gone', { webhook: name, runId });
  }

  /** running → delayed; parked here until its next attempt is due (unless the engine stops). */
  private async delay(job: Job, retry: Parameters<Store['delayRun']>[2], finished: Date): Promise<void> {
    const { runId } = job.run;
    const delayed = await this.record(runId, 'delay', () =>
      this.opts.store.delayRun(runId, this.opts.owner, retry, job.run),
    );
    if (delayed === GAVE_UP || !delayed) return;
    if (retry.attempt.outcome === 'interrupted') this.logInterrupted(delayed, finished);
    job.run = delayed;
    job.claimFrom = 'delayed';
    if (this.opts.accepting()) this.park(job, new Date(delayed.nextAttemptAt!));
  }

  /** A delayed run keeps its key busy and wakes up, to wait for a slot, when its next attempt is due. */
  private park(job: Job, at: Date): void {
    if (at.getTime() <= this.opts.clock.now().getTime()) return this.queue.enqueue(job);
    this.queue.park(job);
    const signal = job.controller.signal;
    const onAbort = () => {
      this.wakeups.get(job)?.();
      this.wakeups.delete(job);
      if (this.queue.unpark(job)) void this.cancel(job, abortMessage(signal.reason));
    };
    const cancelTimer = this.timers.at(at, () => {
      signal.removeEventListener('abort', onAbort);
      this.wakeups.delete(job);
      this.queue.wake(job);
    });
    this.wakeups.set(job, () => {
      cancelTimer();
      signal.removeEventListener('abort', onAbort);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /**
   * A write the run's life depends on, retried with backoff on the clock until it goes through or the engine
   * stops. Each refusal is logged with the run id and shows in `health`; the run's lease is no longer renewed
   * meanwhile, so if the engine dies first, recovery finishes the run.
   */
  private async record<T>(runId: string, what: string, write: () => Promise<T>): Promise<T | typeof GAVE_UP> {
    for (let failures = 0; ; failures++) {
      try {
        const result = await write();
        if (failures > 0)
          this.opts.log.info(`run ${runId}: recorded after ${failures} refused writes`, { runId });
        this.health.settled(runId);
        return result;
      } catch (err) {
        const retryInMs = Math.min(WRITE_RETRY_CAP_MS, 500 * 2 ** failures);
        if (this.stopping.signal.aborted) {
          this.opts.log.error(
            `could not ${what} run ${runId}, and the engine is stopping: its lease expires and the next start recovers it`,
            {
              runId,
              error: String(err),
            },
          );
          this.health.settled(runId);
          return GAVE_UP;
        }
        this.writeFailed(runId, what, err, retryInMs);
        try {
          await this.timers.wait(retryInMs, this.stopping.signal);
        } catch {
          // stopping: one last try above, then give up
        }
      }
    }
  }

  private writeFailed(runId: string, what: string, err: unknown, retryInMs: number): void {
    const message = `could not ${what} run ${runId}: ${err instanceof Error ? err.message : String(err)}`;
    this.health.failed(runId, message, true);
    this.opts.log.error(`${message}; retrying in ${retryInMs / 1000}s`, {
      runId,
      error: String(err),
      retryInMs,
    });
  }

  /** A run reached a final state: its task-log line and the finish hook. */
  private ended(run: RunRecord, result: DriverResult | null): void {
    this.logEnd(run);
    this.opts.onRunFinished?.(run, result);
  }

  /** The task-log line of an attempt cut off by an engine stopping; the run goes on as a later attempt. */
  private logInterrupted(run: RunRecord, at: Date): void {
    if (run.status === 'interrupted') return this.ended(run, null);
    const durationMs = at.getTime() - Date.parse(run.startedAt ?? at.toISOString());
    this.appendTaskLog({ ...run, status: 'interrupted', finishedAt: at.toISOString(), durationMs });
  }

  /** The task-log line of a run's end, then its mark in the store; a line not written is left to the sweep. */
  private logEnd(run: RunRecord): void {
    if (!this.appendTaskLog(run)) return;
    this.loggedIds.push(run.runId);
    if (this.loggedIds.length === 1) setImmediate(() => void this.markWritten());
  }

  /** Marks the lines written since the last call; a mark that fails is left to the sweep (it finds the line). */
  private markWritten(): Promise<void> {
    const ids = this.loggedIds;
    this.loggedIds = [];
    if (ids.length > 0) {
      const marked: Promise<void> = this.opts.store.markLogged(ids).then(
        () => void this.marking.delete(marked),
        (err: unknown) => {
          this.marking.delete(marked);
          this.opts.log.warn('could not mark task-log lines written: recovery checks them against the log', {
            runs: ids.length,
            error: String(err),
          });
        },
      );
      this.marking.add(marked);
    }
    return Promise.all(this.marking).then(() => undefined);
  }

  private appendTaskLog(run: RunRecord): boolean {
    try {
      this.opts.taskLog.append(run);
      return true;
    } catch (err) {
      this.opts.log.error(`could not write the task-log line of run ${run.runId}`, {
        runId: run.runId,
        error: String(err),
      });
      return false;
    }
  }

  /** A run that ended without a recorded finish (its targets could not be read): its events, as any end's. */
  private async afterRun(run: RunRecord, task: TaskSpec, result: DriverResult, event: EngineEvent | null) {
    await this.retireAfterRun(run, task, false);
    for (const input of this.endEventInputs(run, task, result, event, run.error, run.attempts))
      await this.opts.emitSystemEvent(input);
  }

  /** A deleteAfterRun task is retired by its first successful run (unless the run was kept: run --keep). */
  private async retireAfterRun(run: RunRecord, task: TaskSpec, keep: boolean): Promise<void> {
    const retires = task.deleteAfterRun && !keep;
    if (run.status !== 'succeeded' || !retires || this.opts.state().retired.has(run.task)) return;
    const at = this.opts.clock.now();
    const revision = (await this.opts.store.getAppliedRevision())?.revision ?? '';
    const entry = {
      at: at.toISOString(),
      revision,
      action: 'delete' as const,
      kind: 'Task',
      name: run.task,
      reason: 'deleteAfterRun',
    };
    await commitAudited(this.opts.store, this.opts.dataDir, [entry], (audit) =>
      this.opts.store.retireTask(run.task, at, audit),
    );
    this.opts.state().tasks.delete(run.task);
    this.opts.state().retired.add(run.task);
    this.opts.log.info('task retired after its run (deleteAfterRun)', { task: run.task });
  }

  /** Every third of the lease: renew what executes here; when recovering, settle what others left. */
  private armTick(): void {
    const next = new Date(this.opts.clock.now().getTime() + this.opts.leaseMs / 3);
    this.tickCancel = this.opts.clock.setTimer(next, () => {
      this.tickCancel = null;
      // Re-armed only once this tick's writes are done: a clock jump fires one tick, not one per period.
      this.tickInFlight = this.tick().finally(() => {
        this.tickInFlight = null;
        if (this.opts.accepting()) this.armTick();
      });
    });
  }

  private async tick(): Promise<void> {
    const ids = [...this.active.keys()];
    if (ids.length > 0) {
      const until = new Date(this.opts.clock.now().getTime() + this.opts.leaseMs);
      try {
        const renewed = new Set(await this.opts.store.renewLeases(this.opts.owner, ids, until));
        this.health.settled('leases');
        for (const id of ids) if (!renewed.has(id)) this.active.get(id)?.controller.abort(new LeaseLost());
      } catch (err) {
        this.health.failed(
          'leases',
          `could not renew the leases of runs ${ids.join(', ')}: ${String(err)}`,
          false,
        );
        this.opts.log.error('could not renew run leases', { runIds: ids, error: String(err) });
      }
    }
    if (this.sweeping) {
      try {
        await this.sweep();
      } catch (err) {
        this.opts.log.error('could not recover runs left by a stopped engine', { error: String(err) });
      }
    }
  }

  /**
   * Runs whose engine stopped (lease expired) are interrupted: logged, and delayed for another attempt due at
   * once, or ended after too many. Waiting runs no engine here handles (left by a stopped engine, a one-shot
   * command, or just interrupted) are taken on: queued ones wait for a slot, delayed ones for their time.
   */
  private async sweep(): Promise<void> {
    const now = this.opts.clock.now();
    await this.logMissingEnds(now);
    // Audit lines of a change committed before a crash (an apply, a retirement), once settled (see recoverAudit).
    const audited = await recoverAudit(
      this.opts.store,
      this.opts.dataDir,
      new Date(now.getTime() - AUDIT_SETTLED_MS),
    );
    if (audited > 0)
      this.opts.log.warn('appended the audit lines of a change committed before a stop', { lines: audited });
    for (const run of await this.opts.store.interruptExpired(now, MAX_INTERRUPTIONS))
      this.logInterrupted(run, now);
    const waiting = await this.opts.store.listRuns({ status: ['queued', 'delayed'], limit: ADOPT_BATCH });
    for (const run of waiting.sort((a, b) =>
      a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : 0,
    )) {
      if (!this.queue.has(run.runId) && this.opts.accepting()) await this.adopt(run);
    }
  }

  /**
   * Ends stored without their task-log line: an engine died between storing a run's end and writing the line
   * (or marking it written). Only runs that ended a lease ago: a live engine marks its lines within a turn,
   * and one stalled longer than its lease has lost its runs anyway. A line already in the folder is not
   * written again.
   */
  private async logMissingEnds(now: Date): Promise<void> {
    const before = new Date(now.getTime() - this.opts.leaseMs);
    const taskLog = this.opts.taskLog;
    for (;;) {
      let written = 0;
      const given = await this.opts.store.logUnlogged(before, LOG_SWEEP_BATCH, (runs) => {
        const present = taskLog.loggedEnds(runs);
        for (const run of runs) {
          if (present.has(endKey(run))) continue;
          taskLog.append(run);
          written++;
        }
      });
      if (written > 0)
        this.opts.log.warn(
          'wrote the task-log lines of runs that ended without one (an engine stopped first)',
          {
            runs: written,
          },
        );
      if (given < LOG_SWEEP_BATCH) return;
    }
  }

  private async adopt(run: RunRecord): Promise<void> {
    const from = run.status === 'delayed' ? 'delayed' : 'queued';
    const task = this.opts.state().tasks.get(run.task);
    const job = this.jobFor(
      run,
      task ?? ({ objectType: run.target.objectType } as TaskSpec),
      await this.eventOf(run),
    );
    job.claimFrom = from;
    if (!task) {
      await this.cancel(job, `Task/${run.task} no longer exists in the live state`);
      return;
    }
    if (this.queue.has(run.runId)) return;
    if (from === 'delayed') return this.park(job, new Date(run.nextAttemptAt ?? this.opts.clock.now()));
    const admission = this.queue.reserve(job);
    if (admission === 'skip') await this.cancel(job, FORBIDDEN);
    else this.queue.commit(job);
  }

  /** The stored event behind an event-triggered run, so a recovered run expands ${NAME} and ${FIELD_x} as the original would. */
  private async eventOf(run: RunRecord): Promise<EngineEvent | null> {
    if (!run.trigger.event) return null;
    const stored = await this.opts.store.getEvent(run.trigger.event);
    if (!stored) return null;
    const { status: _status, ...event } = stored;
    return event;
  }
}

class ShutdownAbort extends Error {
  constructor() {
    super('interrupted: the engine shut down before the run finished');
  }
}

/** Another engine recovered the run: this one's attempt must not record anything. */
class LeaseLost extends Error {
  constructor() {
    super('this engine lost its lease on the run (another engine recovered it)');
  }
}

/** A run whose targets could not be read (a VergeOS tag), failed now with why; its driver never acted. */
function unresolvedRun(run: RunRecord, error: string, at: Date): RunRecord {
  const now = at.toISOString();
  return { ...run, status: 'failed', startedAt: now, finishedAt: now, durationMs: 0, error };
}

/** A run that never started, ended now with why. */
function skippedRun(run: RunRecord, reason: string, at: Date): RunRecord {
  const now = at.toISOString();
  return { ...run, status: 'skipped', startedAt: now, finishedAt: now, durationMs: 0, error: reason };
}

function abortMessage(reason: unknown): string {
  return reason instanceof Error ? reason.message : 'cancelled';
}
