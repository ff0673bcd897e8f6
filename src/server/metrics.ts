import { builtInDriver } from '../manifest/drivers.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriverResult } from '../engine/drivers/index.js';
import type { RecordingHealth } from '../engine/runs/health.js';
import type { RunRecord } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';

/** Prometheus metrics of one engine process, in their own registry (tests build several servers). */
export class Metrics {
  readonly registry = new Registry();
  private readonly runs = new Counter({
    name: 'taskops_runs_total',
    help: 'Finished runs by task and status.',
    labelNames: ['task', 'status'] as const,
    registers: [this.registry],
  });
  private readonly runDuration = new Histogram({
    name: 'taskops_run_duration_seconds',
    help: 'Run duration by task.',
    labelNames: ['task'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'taskops_webhook_deliveries_total',
    help: 'Webhook deliveries by outcome (succeeded, failed, exhausted).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'taskops_webhook_retries_total',
    help: 'Webhook re-attempts after a failed attempt.',
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'taskops_events_received_total',
    help: 'Events accepted through the API.',
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'taskops_events_refused_total',
    help: 'Events refused through the API with 429 because the engine held maxPendingWork.',
    registers: [this.registry],
  });
  private pending: (() => { pendingWork: number; maxPendingWork: number }) | null = null;
  private readonly pendingWork: Gauge = new Gauge({
    name: 'taskops_pending_work',
    help: 'Events accepted and not yet processed, plus runs waiting for a slot.',
    registers: [this.registry],
    collect: (): void => this.pendingWork.set(this.pending?.().pendingWork ?? 0),
  });
  private readonly pendingWorkLimit: Gauge = new Gauge({
    name: 'taskops_pending_work_limit',
    help: 'maxPendingWork: above it, POST /api/v1/events answers 429.',
    registers: [this.registry],
    collect: (): void => this.pendingWorkLimit.set(this.pending?.().maxPendingWork ?? 0),
  });
  private readonly reconciles = new Counter({
    name: 'taskops_reconcile_total',
    help: 'Reconcile attempts by reason (applied, unchanged, pending, source-failed, invalid, refused, stale-plan) or error.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly appliedAt = new Gauge({
    name: 'taskops_applied_revision_timestamp_seconds',
    help: 'When the currently applied revision was applied (epoch seconds).',
    registers: [this.registry],
  });

  private recording: (() => RecordingHealth) | null = null;
  private writeFailuresSeen = 0;
  private readonly writeFailures = new Counter({
    name: 'taskops_store_write_failures_total',
    help: 'Store writes the engine had to retry (disk full, read-only, locked).',
    registers: [this.registry],
    collect: () => this.collectRecording(),
  });
  private readonly unrecordedRuns = new Gauge({
    name: 'taskops_unrecorded_runs',
    help: 'Runs whose latest transition the store has not accepted yet (being retried).',
    registers: [this.registry],
    collect: () => this.collectRecording(),
  });

  /** `replica`: every series carries it, so one dashboard tells the replicas of a set apart. */
  constructor(opts: { replica?: string } = {}) {
    if (opts.replica) this.registry.setDefaultLabels({ replica: opts.replica });
    collectDefaultMetrics({ register: this.registry, prefix: 'taskops_process_' });
  }

  /** Where the store-write figures come from: the engine's recording health, read at each scrape. */
  watchRecording(source: () => RecordingHealth): void {
    this.recording = source;
  }

  /** Where the back-pressure figures come from (the engine), read at each scrape. */
  watchPendingWork(source: () => { pendingWork: number; maxPendingWork: number }): void {
    this.pending = source;
  }

  private collectRecording(): void {
    const health = this.recording?.();
    if (!health) return;
    if (health.writeFailures > this.writeFailuresSeen) {
      this.writeFailures.inc(health.writeFailures - this.writeFailuresSeen);
      this.writeFailuresSeen = health.writeFailures;
    }
    this.unrecordedRuns.set(health.unrecordedRuns);
  }

  runFinished(run: RunRecord, result: DriverResult | null): void {
    this.runs.inc({ task: run.task, status: run.status });
    if (run.durationMs !== null) this.runDuration.observe({ task: run.task }, run.durationMs / 1000);
    if (builtInDriver(run.target.objectType)?.deliveries && result) {
      this.deliveries.inc({ outcome: result.ok ? 'succeeded' : result.exhausted ? 'exhausted' : 'failed' });
      if (run.attempts > 1) this.retries.inc(run.attempts - 1);
    }
  }

  eventReceived(): void {
    this.events.inc();
  }

  eventRefused(): void {
    this.refused.inc();
  }

  reconciled(outcome: string, appliedAt: Date | null): void {
    this.reconciles.inc({ outcome });
    if (appliedAt) this.appliedAt.set(appliedAt.getTime() / 1000);
  }

  /** Label values come from names and outcomes; masked anyway, since a scrape is often public inside a network. */
  async render(): Promise<string> {
    return redactCredentials(await this.registry.metrics());
  }
}
