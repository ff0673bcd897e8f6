import {
  FINAL_RUN_STATUSES,
  type EngineEvent,
  type RunRecord,
  type RunTrigger,
  type SlotFiring,
  type Store,
} from '../store/types.js';
import { builtInDriver } from '../manifest/drivers.js';
import type { ScheduleSpec } from '../manifest/types.js';
import { disabledWebhooks, enableWebhook, type DisabledWebhook } from './disabled-webhooks.js';
import type { DriverRegistry, DriverResult } from './drivers/index.js';
import { EventIntake } from './events/intake.js';
import type { EventSource } from './events/source.js';
import { matchEvent } from './events/match.js';
import type { RecordingHealth } from './runs/health.js';
import { causedRunId, derivedRunId, engineInstanceId, manualRunId, newEventId } from './runs/ids.js';
import { Runner, type RunRequest } from './runs/runner.js';
import {
  Scheduler,
  systemClock,
  type Clock,
  type FireEvent,
  type MissedEvent,
  type NamedSchedule,
} from './schedule/index.js';
import { buildState, type EngineState } from './state.js';
import { TaskLogWriter } from './tasklog.js';
import {
  EngineError,
  EngineOverloadedError,
  silentLogger,
  type EngineLogger,
  type EventInput,
} from './types.js';

export { EngineError, EngineOverloadedError, type EngineLogger, type EventInput } from './types.js';

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
  /** This engine instance's id, the owner of the runs it executes (default: host, pid and a random part). */
  instanceId?: string;
  /** How long a run's claim holds without renewal (default 15 s); renewed every third of it. */
  leaseMs?: number;
  /** Back-pressure: unprocessed events plus runs waiting for a slot, at most (default 500). */
  maxPendingWork?: number;
  /** With replicas on a shared store: the id this engine's task-log files are named with. */
  taskLogReplica?: string;
}

export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_MAX_PENDING_WORK = 500;
/** What a refused client is told to wait: the default bound drains in well under a second. */
const OVERLOAD_RETRY_AFTER_S = 1;

const PRUNE_EVERY_MS = 6 * 3_600_000;

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
  private readonly runner: Runner;
  private readonly intake: EventIntake;
  private readonly taskLog: TaskLogWriter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;
  private pruneTimer: NodeJS.Timeout | null = null;
  private seenGeneration = -1;
  /** The owner of the runs this engine executes. */
  readonly instanceId: string;
  private readonly sources: EventSource[] = [];

  constructor(private readonly opts: EngineOptions) {
    this.instanceId = opts.instanceId ?? engineInstanceId();
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? silentLogger;
    this.taskLog = new TaskLogWriter(opts.dataDir, opts.taskLogReplica);
    this.runner = new Runner({
      store: opts.store,
      drivers: opts.drivers,
      clock: this.clock,
      random: this.random,
      log: this.log,
      taskLog: this.taskLog,
      dataDir: opts.dataDir,
      defaultZone: opts.defaultZone,
      maxConcurrentRuns: opts.maxConcurrentRuns,
      owner: this.instanceId,
      leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
      state: () => this.state,
      accepting: () => this.accepting,
      emitSystemEvent: (input) => this.submitEvent(input, true),
      endEvents: {
        make: (input) => this.newEvent(input, true),
        firesNothing: (event) => this.firesNothing(event),
        process: (event) => this.intake.processStored(event),
      },
      ...(opts.onRunFinished ? { onRunFinished: opts.onRunFinished } : {}),
    });
    this.intake = new EventIntake(
      opts.store,
      (event) => this.firesNothing(event),
      (event) => this.tracked(this.processEventDurably(event)),
    );
    this.scheduler = new Scheduler({
      clock: this.clock,
      defaultZone: opts.defaultZone,
      catchUpWindowMs: opts.catchUpWindowMs,
      onFire: (e) => this.track(this.onScheduleFired(e)),
      onMissed: (e) => this.track(this.onScheduleMissed(e)),
      onInvalid: (e) =>
        this.log.warn('schedule cannot be planned', { schedule: e.schedule, message: e.message }),
      onClockJump: (e) =>
        this.log.warn('the wall clock jumped (suspend and resume, an NTP step) or the engine stalled', {
          expected: e.expected.toISOString(),
          actual: e.actual.toISOString(),
          jumpMs: e.actual.getTime() - e.expected.getTime(),
        }),
    });
  }

  /**
   * For one-shot CLI commands (`run`, `emit` without --server): the live state only. No scheduling and no
   * recovery, which belong to the one long-running engine (`serve`) on the data dir.
   */
  async startOneShot(): Promise<void> {
    await this.loadState();
    await this.runner.begin(false);
  }

  /**
   * Recovers what a stopped engine left (runs whose lease expired, waiting runs, pending events), then starts
   * scheduling. Recovery goes on every few seconds: a run is interrupted only once its owner's lease expired.
   */
  async start(): Promise<void> {
    await this.loadState();
    // Recovery first: the scheduler's catch-up runs must not be mistaken for runs queued before the stop.
    await this.runner.begin(true);
    await this.reschedule();
    await this.pruneOld();
    this.pruneTimer = setInterval(() => void this.pruneOld(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    // Sequentially, batch by batch: each batch is marked processed before the next is read.
    for (;;) {
      const batch = await this.opts.store.pendingEvents(500);
      if (batch.length === 0) break;
      for (const event of batch) await this.processEventDurably(event);
    }
    for (const source of this.sources) source.start();
  }

  /**
   * Events another engine on the shared store acknowledged but did not turn into runs before it died
   * (replicas): the pending ones stored before `before` are processed here. Processing an event twice is
   * harmless: its runs' ids derive from it, so the second pass finds them there and starts nothing.
   */
  async recoverPendingEvents(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    const stranded = (await this.opts.store.pendingEvents(500)).filter((e) => e.at < cutoff);
    for (const event of stranded) if (this.accepting) await this.processEventDurably(event);
    return stranded.length;
  }

  /** An outside source of events (VergeOS logs and alarms), started with the engine and stopped with it. */
  addEventSource(source: EventSource): void {
    this.sources.push(source);
  }

  /** Re-reads the live objects and reschedules; schedules whose spec did not change keep their next firing. */
  async reload(): Promise<void> {
    await this.loadState();
    await this.reschedule();
  }

  private async loadState(): Promise<void> {
    this.seenGeneration = await this.opts.store.generation();
    this.state = buildState(await this.opts.store.listObjectSpecs());
  }

  /** The firing ledger's latest slot per schedule is the watermark: planning starts after it, never before. */
  private async reschedule(): Promise<void> {
    const lastFired = await this.opts.store.lastFirings();
    this.scheduler.setSchedules(namedSchedules(this.state.schedules), lastFired);
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
    // The engine's own events are never refused: they follow runs already admitted, and would be lost.
    const limit = this.maxPendingWork;
    if (!system && this.pendingWork >= limit)
      throw new EngineOverloadedError(this.pendingWork, limit, OVERLOAD_RETRY_AFTER_S);
    const event = this.newEvent(input, system);
    await this.intake.submit(event);
    return event;
  }

  private newEvent(input: EventInput, system: boolean): EngineEvent {
    return {
      id: newEventId(this.clock.now()),
      type: input.type,
      name: input.name,
      object: input.object ?? null,
      fields: input.fields ?? {},
      at: this.clock.now().toISOString(),
      ...(system ? { origin: 'engine' as const } : {}),
    };
  }

  private firesNothing(event: EngineEvent): boolean {
    return matchEvent(event, this.state.triggerIndex, this.state.tags).length === 0;
  }

  /**
   * A manual run of one task (every target of it); resolves with the runs once they are queued. `keep` is
   * a test run of a deleteAfterRun task: it runs as usual but does not retire the task.
   */
  async runTask(name: string, opts: { keep?: boolean } = {}): Promise<RunRecord[]> {
    const task = this.state.tasks.get(name);
    if (!task) {
      const why = this.state.retired.has(name) ? ' (retired after its run: deleteAfterRun)' : '';
      throw new EngineError(`Task/${name} does not exist in the live state${why}`);
    }
    const trigger: RunTrigger = {
      kind: 'manual',
      name: null,
      event: null,
      ...(opts.keep ? { keep: true } : {}),
    };
    const runId = manualRunId();
    return this.runner.startRuns([
      {
        task: name,
        spec: task,
        trigger,
        event: null,
        idFor: (target) => (target === null ? runId : `${runId}-${hashTarget(target)}`),
      },
    ]);
  }

  /**
   * Re-sends a finished webhook delivery: a new run with the same webhook-id and byte-identical body, so a
   * receiver that saw the first one can drop it; trigger kind `replay`, named after the run it replays.
   */
  async replay(runId: string): Promise<RunRecord> {
    const original = await this.opts.store.getRun(runId);
    if (!original) throw new EngineError(`no run ${runId}`);
    if (!builtInDriver(original.target.objectType)?.deliveries || !original.delivery)
      throw new EngineError(`run ${runId} is not a webhook delivery: only deliveries can be replayed`);
    if (!FINAL_RUN_STATUSES.includes(original.status))
      throw new EngineError(`run ${runId} is still ${original.status}: replay it once it has finished`);
    const task = this.state.tasks.get(original.task);
    if (!task) throw new EngineError(`Task/${original.task} no longer exists in the live state`);
    const id = manualRunId();
    const [run] = await this.runner.startRuns([
      {
        task: original.task,
        spec: task,
        trigger: { kind: 'replay', name: runId, event: original.trigger.event },
        event: null,
        idFor: () => id,
        delivery: original.delivery,
      },
    ]);
    return run!;
  }

  /** Enables a webhook a receiver disabled (410 Gone); false when it was not disabled. */
  async enableWebhook(name: string): Promise<boolean> {
    if (!this.state.webhooks.has(name))
      throw new EngineError(`Webhook/${name} does not exist in the live state`);
    return enableWebhook(this.opts.store, name);
  }

  /** The webhooks disabled by a 410 whose spec has not changed since. */
  disabledWebhooks(): Promise<Map<string, DisabledWebhook>> {
    return disabledWebhooks(this.opts.store, this.state.webhooks);
  }

  /**
   * Resolves when no event is being processed and no run is queued or running; with `delayed`, also when no
   * run waits for its next attempt (one-shot commands wait for retries to end).
   */
  async whenIdle(opts: { delayed?: boolean } = {}): Promise<void> {
    do {
      await Promise.all([...this.inFlight]);
      await this.runner.whenIdle(opts);
    } while (this.inFlight.size > 0 || this.runner.size > 0);
  }

  /** Events accepted and not yet processed, plus runs waiting for a slot: what back-pressure bounds. */
  get pendingWork(): number {
    return this.intake.unprocessed + this.runner.waiting;
  }

  get maxPendingWork(): number {
    return this.opts.maxPendingWork ?? DEFAULT_MAX_PENDING_WORK;
  }

  /** Whether every run transition and event is being recorded (`/readyz`, metrics). */
  recordingHealth(): RecordingHealth {
    return this.runner.health.snapshot();
  }

  nextFirings(schedule: string, count: number): Date[] {
    return this.scheduler.nextFirings(schedule, count);
  }

  get liveState(): EngineState {
    return this.state;
  }

  /** Stops intake and schedules, lets runs finish until the deadline, then interrupts the rest (retried at next start). */
  async stop(deadlineMs = 8000): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
    this.accepting = false;
    this.scheduler.stop();
    this.runner.pause();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    // Real time: the deadline is how long the process may take to exit, whatever the engine's clock says.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>(
      (resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)),
    );
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    await this.runner.interruptAll(outcome === 'deadline');
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
    void this.tracked(promise);
  }

  /** `promise` waited for by whenIdle; resolves when it settles, its failure logged. */
  private tracked<T>(promise: Promise<T>): Promise<void> {
    const p = promise.then(
      () => undefined,
      (err: unknown) => this.log.error('engine step failed', { error: String(err) }),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** `processEvent`, retried with backoff on the clock while the store refuses the write (the event stays pending). */
  private async processEventDurably(event: EngineEvent): Promise<void> {
    const subject = `event ${event.id}`;
    for (let failures = 0; ; failures++) {
      try {
        await this.processEvent(event);
        this.runner.health.settled(subject);
        return;
      } catch (err) {
        const message = `could not store the runs of event ${event.id}: ${String(err)}`;
        if (!this.accepting) {
          this.log.error(`${message}; it stays pending and is processed at the next start`, {
            event: event.id,
          });
          this.runner.health.settled(subject);
          return;
        }
        const retryInMs = Math.min(30_000, 500 * 2 ** failures);
        this.runner.health.failed(subject, message, false);
        this.log.error(`${message}; retrying in ${retryInMs / 1000}s`, { event: event.id, retryInMs });
        await this.runner.pauseFor(retryInMs);
      }
    }
  }

  /** The event's runs, stored in one step with the event marked processed. */
  private async processEvent(event: EngineEvent): Promise<void> {
    const requests: RunRequest[] = [];
    for (const match of matchEvent(event, this.state.triggerIndex, this.state.tags)) {
      const task = this.state.tasks.get(match.task);
      if (!task || task.enabled === false) continue;
      requests.push({
        task: match.task,
        spec: task,
        trigger: { kind: 'event', name: match.trigger, event: event.id },
        event,
        idFor: (target) => causedRunId(event.at, event.id, match.task, target),
      });
    }
    await this.runner.startRuns(requests, { processedEvent: event.id });
  }

  /**
   * A slot and its runs are stored in one transaction (the firing ledger's row with them): whoever finds the
   * slot taken (another engine on the store, a replayed timer, a restart) stores and starts nothing, and no
   * crash can leave a slot recorded whose runs were never stored.
   */
  private slotFiring(e: MissedEvent, outcome: 'fired' | 'missed', catchUp: boolean): SlotFiring {
    return {
      schedule: e.schedule,
      scheduledFor: e.scheduledFor,
      outcome,
      catchUp,
      recordedAt: this.clock.now(),
    };
  }

  private slotTaken(e: MissedEvent): void {
    this.log.info('schedule slot already recorded: not fired again', {
      schedule: e.schedule,
      scheduledFor: e.scheduledFor.toISOString(),
    });
  }

  private async onScheduleFired(e: FireEvent): Promise<void> {
    const at = e.scheduledFor.toISOString();
    const trigger = scheduleTrigger(e.schedule, at, e.catchUp);
    const requests: RunRequest[] = [];
    for (const name of this.state.tasksBySchedule.get(e.schedule) ?? []) {
      const task = this.state.tasks.get(name);
      if (!task || task.enabled === false) continue;
      requests.push({
        task: name,
        spec: task,
        trigger,
        event: null,
        idFor: (target) => causedRunId(at, e.schedule, name, target),
      });
    }
    const firing = this.slotFiring(e, 'fired', e.catchUp);
    await this.storeFiringDurably(e, async () => {
      const runs = await this.runner.startRuns(requests, { firing });
      if (requests.length > 0 && runs.length === 0) this.slotTaken(e);
    });
  }

  /** A firing missed (downtime, suspend, clock jump) outside the catch-up window: logged as skipped, never run late. */
  private async onScheduleMissed(e: MissedEvent): Promise<void> {
    const at = e.scheduledFor.toISOString();
    const trigger = scheduleTrigger(e.schedule, at, false);
    const runs: RunRecord[] = [];
    for (const name of this.state.tasksBySchedule.get(e.schedule) ?? []) {
      const task = this.state.tasks.get(name);
      if (!task || task.enabled === false) continue;
      runs.push(this.runner.newRun(name, task, causedRunId(at, e.schedule, name, 'missed'), trigger, null));
    }
    const reason = `missed: the engine was down or suspended, or its clock jumped, at ${at} (outside the catch-up window)`;
    const firing = this.slotFiring(e, 'missed', false);
    await this.storeFiringDurably(e, async () => {
      const stored = await this.runner.recordSkipped(runs, reason, { firing });
      if (runs.length > 0 && stored.length === 0) this.slotTaken(e);
    });
  }

  /**
   * A slot's store step, retried with backoff on the clock while the store refuses it. Nothing of the slot is
   * stored until it goes through; if the engine stops first, the next start catches the slot up (or reports
   * it missed) from the ledger's watermark, as for any slot it did not see.
   */
  private async storeFiringDurably(e: MissedEvent, store: () => Promise<void>): Promise<void> {
    const slot = `Schedule/${e.schedule} at ${e.scheduledFor.toISOString()}`;
    const subject = `firing of ${slot}`;
    for (let failures = 0; ; failures++) {
      try {
        await store();
        this.runner.health.settled(subject);
        return;
      } catch (err) {
        const message = `could not store the firing of ${slot}: ${String(err)}`;
        if (!this.accepting) {
          this.log.error(
            `${message}; nothing of it was stored, so the next start treats it as a slot it missed (catch-up window)`,
            {
              schedule: e.schedule,
            },
          );
          this.runner.health.settled(subject);
          return;
        }
        const retryInMs = Math.min(30_000, 500 * 2 ** failures);
        this.runner.health.failed(subject, message, false);
        this.log.error(`${message}; retrying in ${retryInMs / 1000}s`, { schedule: e.schedule, retryInMs });
        await this.runner.pauseFor(retryInMs);
      }
    }
  }
}

function hashTarget(target: string): string {
  return derivedRunId(target).slice(4, 12);
}

/** The trigger of a schedule slot's runs, fired or missed. */
function scheduleTrigger(schedule: string, scheduledFor: string, catchUp: boolean): RunTrigger {
  return { kind: 'schedule', name: schedule, event: null, scheduledFor, catchUp };
}

/** One schedule at a time: at 100,000 schedules, an array of them (and of their entries) was 6 MB of a start. */
function* namedSchedules(schedules: ReadonlyMap<string, ScheduleSpec>): Generator<NamedSchedule> {
  for (const [name, spec] of schedules) yield { name, spec };
}
