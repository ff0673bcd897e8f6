import type { TaskSpec } from '../manifest/types.js';
import { appendAudit } from '../store/audit.js';
import type { EngineEvent, EventFieldValue, RunRecord, RunTrigger, Store } from '../store/types.js';
import type { DriverRegistry, DriverResult } from './drivers/index.js';
import { matchEvent } from './events/match.js';
import { derivedRunId, isSystemEventId, manualRunId, newEventId } from './runs/ids.js';
import { executeRun } from './runs/execute.js';
import { RunQueue, type Job } from './runs/queue.js';
import { Scheduler, systemClock, type Clock, type FireEvent, type MissedEvent } from './schedule/index.js';
import { buildState, targetsOf, type EngineState } from './state.js';
import { TaskLogWriter } from './tasklog.js';

export interface EngineLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface EngineOptions {
  store: Store;
  dataDir: string;
  drivers: DriverRegistry;
  defaultZone: string;
  catchUpWindowMs: number;
  maxConcurrentRuns: number;
  clock?: Clock;
  random?: () => number;
  logger?: EngineLogger;
  /** Days of task logs and run records to keep; pruned at start and every 6 hours. */
  retentionDays?: number;
  /** Called once per finished run (metrics). */
  onRunFinished?(run: RunRecord, result: DriverResult | null): void;
}

export interface EventInput {
  type: string;
  name: string;
  object?: string | null;
  fields?: Record<string, EventFieldValue>;
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Interrupted runs are retried at most this many times, so a run that kills the engine cannot loop forever. */
const MAX_INTERRUPT_RETRIES = 3;
const PRUNE_EVERY_MS = 6 * 3_600_000;
const LAST_FIRED = (schedule: string) => `schedule.lastFired.${schedule}`;
const silent: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * The executor: fires schedules, matches events, runs tasks through drivers, writes task logs.
 * It reads the live state from the store and never writes objects, except retiring deleteAfterRun tasks.
 */
export class Engine {
  private state: EngineState = buildState([]);
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: EngineLogger;
  private readonly scheduler: Scheduler;
  private readonly queue: RunQueue;
  private readonly taskLog: TaskLogWriter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly intake: Array<{
    event: EngineEvent;
    resolve: () => void;
    reject: (err: unknown) => void;
  }> = [];
  private seenGeneration = -1;

  constructor(private readonly opts: EngineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? silent;
    this.taskLog = new TaskLogWriter(opts.dataDir);
    this.queue = new RunQueue(opts.maxConcurrentRuns, (job) => this.execute(job));
    this.scheduler = new Scheduler({
      clock: this.clock,
      defaultZone: opts.defaultZone,
      catchUpWindowMs: opts.catchUpWindowMs,
      onFire: (e) => this.track(this.onScheduleFired(e)),
      onMissed: (e) => this.track(this.onScheduleMissed(e)),
      onInvalid: (e) =>
        this.log.warn('schedule cannot be planned', { schedule: e.schedule, message: e.message }),
    });
  }

  /**
   * For one-shot CLI commands (`run`, `emit` without --server): the live state only. No scheduling and no
   * recovery, which belong to the one long-running engine (`serve`) on the data dir.
   */
  async startOneShot(): Promise<void> {
    await this.loadState();
  }

  /** Recovers what a crash left (runs in flight, queued runs, pending events), then starts scheduling. */
  async start(): Promise<void> {
    await this.loadState();
    // Recovery first: the scheduler's catch-up runs must not be mistaken for runs queued before the stop.
    await this.recoverRuns();
    await this.reschedule();
    await this.pruneOld();
    this.pruneTimer = setInterval(() => void this.pruneOld(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    // Sequentially, batch by batch: each batch is marked processed before the next is read.
    for (;;) {
      const batch = await this.opts.store.pendingEvents(500);
      if (batch.length === 0) break;
      for (const event of batch) await this.processEvent(event);
    }
  }

  /** Re-reads the live objects and reschedules; schedules whose spec did not change keep their next firing. */
  async reload(): Promise<void> {
    await this.loadState();
    await this.reschedule();
  }

  private async loadState(): Promise<void> {
    this.seenGeneration = await this.opts.store.generation();
    this.state = buildState(await this.opts.store.listObjects());
  }

  private async reschedule(): Promise<void> {
    const store = this.opts.store;
    const lastFired = new Map<string, Date>();
    for (const name of this.state.schedules.keys()) {
      const at = await store.getMeta(LAST_FIRED(name));
      if (at) lastFired.set(name, new Date(at));
    }
    this.scheduler.setSchedules(
      [...this.state.schedules].map(([name, spec]) => ({ name, spec })),
      lastFired,
    );
  }

  /** Reloads only when another writer (a reconcile) changed the store since the last look. */
  async reloadIfChanged(): Promise<boolean> {
    if ((await this.opts.store.generation()) === this.seenGeneration) return false;
    await this.reload();
    return true;
  }

  /**
   * Stores the event durably, then processes it in the background; resolves once it is stored.
   * Events arriving in the same turn of the event loop share one transaction (group commit).
   */
  async submitEvent(input: EventInput, system = false): Promise<EngineEvent> {
    if (!this.accepting) throw new EngineError('the engine is shutting down and takes no new events');
    const event: EngineEvent = {
      id: newEventId(this.clock.now(), system),
      type: input.type,
      name: input.name,
      object: input.object ?? null,
      fields: input.fields ?? {},
      at: this.clock.now().toISOString(),
    };
    await new Promise<void>((resolve, reject) => {
      this.intake.push({ event, resolve, reject });
      if (this.intake.length === 1) setImmediate(() => void this.flushIntake());
    });
    return event;
  }

  private async flushIntake(): Promise<void> {
    const batch = this.intake.splice(0);
    const matched = new Map(
      batch.map(({ event }) => [event.id, matchEvent(event, this.state.triggerIndex, this.state.tags)]),
    );
    const firesNothing = new Set([...matched].filter(([, m]) => m.length === 0).map(([id]) => id));
    try {
      await this.opts.store.addEvents(
        batch.map((b) => b.event),
        firesNothing,
      );
    } catch (err) {
      batch.forEach((b) => b.reject(err));
      return;
    }
    for (const { event, resolve } of batch) {
      resolve();
      if (!firesNothing.has(event.id)) this.track(this.processEvent(event));
    }
  }

  /** A manual run of one task (every target of it); resolves with the runs once they are queued. */
  async runTask(name: string): Promise<RunRecord[]> {
    const task = this.state.tasks.get(name);
    if (!task) {
      const why = this.state.retired.has(name) ? ' (retired after its run: deleteAfterRun)' : '';
      throw new EngineError(`Task/${name} does not exist in the live state${why}`);
    }
    const trigger: RunTrigger = { kind: 'manual', name: null, event: null };
    const runId = manualRunId();
    return this.startRuns(name, task, trigger, null, (target) =>
      target === null ? runId : `${runId}-${hashTarget(target)}`,
    );
  }

  /** Resolves when no event is being processed and no run is queued or running. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0 || this.queue.size > 0) {
      await Promise.all([...this.inFlight]);
      await this.queue.whenIdle();
    }
  }

  nextFirings(schedule: string, count: number): Date[] {
    return this.scheduler.nextFirings(schedule, count);
  }

  get liveState(): EngineState {
    return this.state;
  }

  /** Stops intake and schedules, lets runs finish until the deadline, then interrupts the rest (retried at next start). */
  async stop(deadlineMs = 8000): Promise<void> {
    this.accepting = false;
    this.scheduler.stop();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>(
      (resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)),
    );
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      for (const job of this.queue.activeJobs()) job.controller.abort(new ShutdownAbort());
      await this.queue.whenIdle();
    }
    this.taskLog.close();
    await this.opts.drivers.close();
  }

  private async pruneOld(): Promise<void> {
    const days = this.opts.retentionDays ?? 30;
    const now = this.clock.now();
    try {
      const files = this.taskLog.prune(now, days);
      const rows = await this.opts.store.pruneActivity(new Date(now.getTime() - days * 86_400_000));
      if (files.length > 0 || rows > 0)
        this.log.info('retention: pruned old task logs and runs', { files: files.length, rows, days });
    } catch (err) {
      this.log.warn('retention pruning failed', { error: String(err) });
    }
  }

  private track<T>(promise: Promise<T>): void {
    const p = promise.catch((err: unknown) => this.log.error('engine step failed', { error: String(err) }));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async processEvent(event: EngineEvent): Promise<void> {
    for (const match of matchEvent(event, this.state.triggerIndex, this.state.tags)) {
      const task = this.state.tasks.get(match.task);
      if (!task || task.enabled === false) continue;
      const trigger: RunTrigger = { kind: 'event', name: match.trigger, event: event.id };
      await this.startRuns(match.task, task, trigger, event, (target) =>
        derivedRunId(event.id, match.task, target),
      );
    }
    await this.opts.store.markEventProcessed(event.id);
  }

  private async onScheduleFired(e: FireEvent): Promise<void> {
    await this.opts.store.setMeta(LAST_FIRED(e.schedule), e.scheduledFor.toISOString());
    const at = e.scheduledFor.toISOString();
    for (const name of this.state.tasksBySchedule.get(e.schedule) ?? []) {
      const task = this.state.tasks.get(name);
      if (!task || task.enabled === false) continue;
      const trigger: RunTrigger = { kind: 'schedule', name: e.schedule, event: null };
      await this.startRuns(name, task, trigger, null, (target) => derivedRunId(e.schedule, at, name, target));
    }
  }

  /** A firing missed during downtime, outside the catch-up window: logged as skipped, never run late. */
  private async onScheduleMissed(e: MissedEvent): Promise<void> {
    await this.opts.store.setMeta(LAST_FIRED(e.schedule), e.scheduledFor.toISOString());
    for (const name of this.state.tasksBySchedule.get(e.schedule) ?? []) {
      const task = this.state.tasks.get(name);
      if (!task || task.enabled === false) continue;
      const run = this.newRun(
        name,
        task,
        derivedRunId(e.schedule, e.scheduledFor.toISOString(), name, 'missed'),
        {
          kind: 'schedule',
          name: e.schedule,
          event: null,
        },
        null,
      );
      if (await this.opts.store.getRun(run.runId)) continue;
      await this.finishSkipped(
        run,
        `missed: the engine was down at ${e.scheduledFor.toISOString()} (outside the catch-up window)`,
        true,
      );
    }
  }

  private async startRuns(
    taskName: string,
    task: TaskSpec,
    trigger: RunTrigger,
    event: EngineEvent | null,
    idFor: (target: string | null) => string,
  ): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    const targets = task.objectType === 'webhook' ? [task.target?.name ?? null] : targetsOf(task, this.state);
    for (const target of targets) {
      const run = this.newRun(taskName, task, idFor(target), trigger, target);
      // The same event or firing processed twice (crash between steps) finds its run already recorded.
      if (await this.opts.store.getRun(run.runId)) continue;
      await this.opts.store.insertRun(run);
      await this.admit(run, task, event);
      runs.push(run);
    }
    return runs;
  }

  private newRun(
    task: string,
    spec: TaskSpec,
    runId: string,
    trigger: RunTrigger,
    target: string | null,
  ): RunRecord {
    return {
      runId,
      task,
      status: 'queued',
      trigger,
      target: { objectType: spec.objectType, name: target },
      queuedAt: this.clock.now().toISOString(),
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      attempts: 0,
      error: null,
      details: null,
    };
  }

  private async admit(run: RunRecord, task: TaskSpec, event: EngineEvent | null = null): Promise<void> {
    const job: Job = {
      run,
      spec: task,
      event,
      key: `${run.task}\u0000${run.target.name ?? ''}`,
      policy: task.concurrency ?? 'forbid',
      controller: new AbortController(),
    };
    if (this.queue.admit(job) === 'skipped') {
      await this.finishSkipped(
        run,
        'a previous run of this task on this target is still going (concurrency: forbid)',
        false,
      );
    }
  }

  private async finishSkipped(run: RunRecord, reason: string, insert: boolean): Promise<void> {
    const now = this.clock.now().toISOString();
    const done: RunRecord = {
      ...run,
      status: 'skipped',
      startedAt: now,
      finishedAt: now,
      durationMs: 0,
      error: reason,
    };
    if (insert) await this.opts.store.insertRun(done);
    else await this.opts.store.updateRun(run.runId, done);
    this.taskLog.append(done);
    this.opts.onRunFinished?.(done, null);
  }

  private async execute(job: Job): Promise<void> {
    const { run } = job;
    // A deleteAfterRun task retired by one member's success still runs for the members already queued.
    const task = this.state.tasks.get(run.task) ?? (this.state.retired.has(run.task) ? job.spec : undefined);
    // Stopped before it started: it stays queued in the store and runs at the next start.
    if (job.controller.signal.reason instanceof ShutdownAbort) return;
    if (job.controller.signal.aborted)
      return this.finishSkipped(run, abortMessage(job.controller.signal), false);
    if (!task) return this.finishSkipped(run, `Task/${run.task} no longer exists in the live state`, false);
    const started = this.clock.now();
    await this.opts.store.updateRun(run.runId, { status: 'running', startedAt: started.toISOString() });
    const timeoutMs = (task.timeoutSeconds ?? 300) * 1000;
    const timer = setTimeout(
      () =>
        job.controller.abort(new Error(`timed out after ${task.timeoutSeconds ?? 300}s (timeoutSeconds)`)),
      timeoutMs,
    );
    const event = job.event;
    const schedule =
      run.trigger.kind === 'schedule' && run.trigger.name
        ? this.state.schedules.get(run.trigger.name)
        : undefined;
    let result: DriverResult;
    try {
      result = await executeRun({
        run,
        task,
        state: this.state,
        drivers: this.opts.drivers,
        event,
        now: started,
        zone: schedule?.timezone ?? this.opts.defaultZone,
        random: this.random,
        signal: job.controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
    const finished = this.clock.now();
    const interrupted = job.controller.signal.reason instanceof ShutdownAbort;
    const done: RunRecord = {
      ...run,
      status: result.ok ? 'succeeded' : interrupted ? 'interrupted' : 'failed',
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      attempts: result.attempts,
      error: result.ok ? null : (result.error ?? 'failed'),
      details: result.details ?? null,
    };
    await this.opts.store.updateRun(run.runId, done);
    this.taskLog.append(done);
    this.opts.onRunFinished?.(done, result);
    if (interrupted) await this.queueRetry(done);
    else await this.afterRun(done, task, result);
  }

  private async afterRun(run: RunRecord, task: TaskSpec, result: DriverResult): Promise<void> {
    if (run.status === 'succeeded' && task.deleteAfterRun && !this.state.retired.has(run.task)) {
      const at = this.clock.now();
      await this.opts.store.retireTask(run.task, at);
      const revision = (await this.opts.store.getAppliedRevision())?.revision ?? '';
      appendAudit(
        this.opts.dataDir,
        [
          {
            at: at.toISOString(),
            revision,
            action: 'delete',
            kind: 'Task',
            name: run.task,
            reason: 'deleteAfterRun',
          },
        ],
        at,
      );
      this.state.tasks.delete(run.task);
      this.state.retired.add(run.task);
      this.log.info('task retired after its run (deleteAfterRun)', { task: run.task });
    }
    // Runs caused by the engine's own events emit none, so an alert task that fails cannot alert on itself forever.
    if (isSystemEventId(run.trigger.event) || !this.accepting) return;
    const fields: Record<string, EventFieldValue> = { runId: run.runId, target: run.target.name ?? '' };
    if (run.error) fields.error = run.error;
    await this.submitEvent(
      { type: 'tasks', name: run.status === 'succeeded' ? 'succeeded' : 'failed', object: run.task, fields },
      true,
    );
    if (result.exhausted && task.objectType === 'webhook') {
      await this.submitEvent(
        {
          type: 'webhooks',
          name: 'exhausted',
          object: task.target?.name ?? null,
          fields: { task: run.task, runId: run.runId, attempts: run.attempts },
        },
        true,
      );
    }
  }

  /** After a crash: runs cut off mid-action are recorded as interrupted and retried; queued ones simply run. */
  private async recoverRuns(): Promise<void> {
    const store = this.opts.store;
    for (const run of await store.listRuns({ status: ['running'], limit: 100_000 })) {
      const now = this.clock.now().toISOString();
      const done: RunRecord = {
        ...run,
        status: 'interrupted',
        finishedAt: now,
        durationMs: run.startedAt ? Date.parse(now) - Date.parse(run.startedAt) : 0,
        error: 'interrupted: the engine stopped while this run was in flight',
      };
      await store.updateRun(run.runId, done);
      this.taskLog.append(done);
      await this.queueRetry(done);
    }
    const queued = await store.listRuns({ status: ['queued'], limit: 100_000 });
    for (const run of queued.sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : 1))) {
      const task = this.state.tasks.get(run.task);
      if (task) await this.admit(run, task, await this.eventOf(run));
      else await this.finishSkipped(run, `Task/${run.task} no longer exists in the live state`, false);
    }
  }

  /** The stored event behind an event-triggered run, so a recovered run expands ${NAME} and ${FIELD_x} as the original would. */
  private async eventOf(run: RunRecord): Promise<EngineEvent | null> {
    if (!run.trigger.event) return null;
    const stored = await this.opts.store.getEvent(run.trigger.event);
    if (!stored) return null;
    const { status: _status, ...event } = stored;
    return event;
  }

  private async queueRetry(run: RunRecord): Promise<void> {
    const match = /-r(\d+)$/.exec(run.runId);
    const attempt = match ? Number(match[1]) + 1 : 1;
    const task = this.state.tasks.get(run.task);
    if (!task || attempt > MAX_INTERRUPT_RETRIES) return;
    const retryId = `${match ? run.runId.slice(0, match.index) : run.runId}-r${attempt}`;
    if (await this.opts.store.getRun(retryId)) return;
    const retry = this.newRun(run.task, task, retryId, run.trigger, run.target.name);
    await this.opts.store.insertRun(retry);
    // During shutdown the retry stays queued in the store and runs at the next start.
    if (this.accepting) await this.admit(retry, task, await this.eventOf(run));
  }
}

class ShutdownAbort extends Error {
  constructor() {
    super('interrupted: the engine shut down before the run finished');
  }
}

function abortMessage(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'cancelled';
}

function hashTarget(target: string): string {
  return derivedRunId(target).slice(4, 12);
}
