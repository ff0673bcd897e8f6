import type { TaskSpec } from '../../manifest/types.js';
import { appendAudit } from '../../store/audit.js';
import type { EngineEvent, EventFieldValue, RunRecord, RunTrigger, Store } from '../../store/types.js';
import type { DriverRegistry, DriverResult } from '../drivers/index.js';
import type { Clock } from '../schedule/index.js';
import { targetsOf, type EngineState } from '../state.js';
import type { TaskLogWriter } from '../tasklog.js';
import type { EngineLogger, EventInput } from '../types.js';
import { executeRun } from './execute.js';
import { isSystemEventId } from './ids.js';
import { RunQueue, type Job } from './queue.js';

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
  /** The engine's current live state (it is replaced on every reload). */
  state(): EngineState;
  /** False once the engine is shutting down. */
  accepting(): boolean;
  /** Stores and processes one of the engine's own events (tasks/failed, webhooks/exhausted). */
  emitSystemEvent(input: EventInput): Promise<unknown>;
  onRunFinished?(run: RunRecord, result: DriverResult | null): void;
}

/** Interrupted runs are retried at most this many times, so a run that kills the engine cannot loop forever. */
const MAX_INTERRUPT_RETRIES = 3;

/**
 * The life of a run: recorded as queued, admitted under the task's concurrency policy, executed through its
 * driver with a timeout, finished (task log, store, metrics), then retirement and the engine's own events.
 */
export class Runner {
  private readonly queue: RunQueue;

  constructor(private readonly opts: RunnerOptions) {
    this.queue = new RunQueue(opts.maxConcurrentRuns, (job) => this.execute(job));
  }

  /** Runs queued or running. */
  get size(): number {
    return this.queue.size;
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Shutdown deadline: stops every run; those not started stay queued in the store for the next start. */
  async interruptAll(): Promise<void> {
    for (const job of this.queue.activeJobs()) job.controller.abort(new ShutdownAbort());
    await this.queue.whenIdle();
  }

  /** One run per target of the task (each tag member, the named object, or none), recorded then admitted. */
  async startRuns(
    taskName: string,
    task: TaskSpec,
    trigger: RunTrigger,
    event: EngineEvent | null,
    idFor: (target: string | null) => string,
  ): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    const targets =
      task.objectType === 'webhook' ? [task.target?.name ?? null] : targetsOf(task, this.opts.state());
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

  /** Records a run that never started (`insert` when it was not stored yet), with why. */
  async finishSkipped(run: RunRecord, reason: string, insert: boolean): Promise<void> {
    const now = this.opts.clock.now().toISOString();
    const done: RunRecord = {
      ...run,
      status: 'skipped',
      startedAt: now,
      finishedAt: now,
      durationMs: 0,
      error: reason,
    };
    if (insert) await this.opts.store.insertRun(done);
    else await this.opts.store.updateRun(run.runId, outcomeOf(done));
    this.opts.taskLog.append(done);
    this.opts.onRunFinished?.(done, null);
  }

  private async execute(job: Job): Promise<void> {
    const { run } = job;
    // A deleteAfterRun task retired by one member's success still runs for the members already queued.
    const task =
      this.opts.state().tasks.get(run.task) ??
      (this.opts.state().retired.has(run.task) ? job.spec : undefined);
    // Stopped before it started: it stays queued in the store and runs at the next start.
    if (job.controller.signal.reason instanceof ShutdownAbort) return;
    if (job.controller.signal.aborted)
      return this.finishSkipped(run, abortMessage(job.controller.signal), false);
    if (!task) return this.finishSkipped(run, `Task/${run.task} no longer exists in the live state`, false);
    const started = this.opts.clock.now();
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
        ? this.opts.state().schedules.get(run.trigger.name)
        : undefined;
    let result: DriverResult;
    try {
      result = await executeRun({
        run,
        task,
        state: this.opts.state(),
        drivers: this.opts.drivers,
        event,
        now: started,
        zone: schedule?.timezone ?? this.opts.defaultZone,
        random: this.opts.random,
        signal: job.controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
    const finished = this.opts.clock.now();
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
    await this.opts.store.updateRun(run.runId, outcomeOf(done));
    this.opts.taskLog.append(done);
    this.opts.onRunFinished?.(done, result);
    if (interrupted) await this.queueRetry(done);
    else await this.afterRun(done, task, result);
  }

  private async afterRun(run: RunRecord, task: TaskSpec, result: DriverResult): Promise<void> {
    if (run.status === 'succeeded' && task.deleteAfterRun && !this.opts.state().retired.has(run.task)) {
      const at = this.opts.clock.now();
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
      this.opts.state().tasks.delete(run.task);
      this.opts.state().retired.add(run.task);
      this.opts.log.info('task retired after its run (deleteAfterRun)', { task: run.task });
    }
    // Runs caused by the engine's own events emit none, so an alert task that fails cannot alert on itself forever.
    if (isSystemEventId(run.trigger.event) || !this.opts.accepting()) return;
    const fields: Record<string, EventFieldValue> = { runId: run.runId, target: run.target.name ?? '' };
    if (run.error) fields.error = run.error;
    await this.opts.emitSystemEvent({
      type: 'tasks',
      name: run.status === 'succeeded' ? 'succeeded' : 'failed',
      object: run.task,
      fields,
    });
    if (result.exhausted && task.objectType === 'webhook') {
      await this.opts.emitSystemEvent({
        type: 'webhooks',
        name: 'exhausted',
        object: task.target?.name ?? null,
        fields: { task: run.task, runId: run.runId, attempts: run.attempts },
      });
    }
  }

  /** After a crash: runs cut off mid-action are recorded as interrupted and retried; queued ones simply run. */
  async recover(): Promise<void> {
    const store = this.opts.store;
    for (const run of await store.listRuns({ status: ['running'], limit: 100_000 })) {
      const now = this.opts.clock.now().toISOString();
      const done: RunRecord = {
        ...run,
        status: 'interrupted',
        finishedAt: now,
        durationMs: run.startedAt ? Date.parse(now) - Date.parse(run.startedAt) : 0,
        error: 'interrupted: the engine stopped while this run was in flight',
      };
      await store.updateRun(run.runId, outcomeOf(done));
      this.opts.taskLog.append(done);
      await this.queueRetry(done);
    }
    const queued = await store.listRuns({ status: ['queued'], limit: 100_000 });
    for (const run of queued.sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : 1))) {
      const task = this.opts.state().tasks.get(run.task);
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
    const task = this.opts.state().tasks.get(run.task);
    if (!task || attempt > MAX_INTERRUPT_RETRIES) return;
    const retryId = `${match ? run.runId.slice(0, match.index) : run.runId}-r${attempt}`;
    if (await this.opts.store.getRun(retryId)) return;
    const retry = this.newRun(run.task, task, retryId, run.trigger, run.target.name);
    await this.opts.store.insertRun(retry);
    // During shutdown the retry stays queued in the store and runs at the next start.
    if (this.opts.accepting()) await this.admit(retry, task, await this.eventOf(run));
  }
}

class ShutdownAbort extends Error {
  constructor() {
    super('interrupted: the engine shut down before the run finished');
  }
}

/** What finishing a run changes: the identity, trigger, target and queue time stay as inserted. */
function outcomeOf(run: RunRecord): Partial<RunRecord> {
  const { status, startedAt, finishedAt, durationMs, attempts, error, details } = run;
  return { status, startedAt, finishedAt, durationMs, attempts, error, details };
}

function abortMessage(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'cancelled';
}
