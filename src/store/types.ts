import type { ManifestProblem } from '../manifest/errors.js';
import type { AuditEntry } from './audit.js';
import type { Kind, ObjectMetadata, SpecByKind } from '../manifest/types.js';

/** Who owns a live object: taskops (from the source) or a person through the API. Only taskops objects are pruned. */
export type ManagedBy = 'taskops' | 'api';

export interface LiveObject<K extends Kind = Kind> {
  kind: K;
  name: string;
  metadata: ObjectMetadata;
  /** Normalized: schema defaults applied, so equal meaning means equal hash. */
  spec: SpecByKind[K];
  /** sha256 of the canonical JSON of {metadata, spec}. */
  hash: string;
  managedBy: ManagedBy;
  /** The source revision the object was last applied from (null for API-made objects). */
  revision: string | null;
  updatedAt: string;
  /** Set when a deleteAfterRun task has succeeded once; the reconciler then leaves it alone. */
  retiredAt: string | null;
  /**
   * The hash taskops last applied from the source (null for API-made objects). When it differs from
   * `hash`, the object was changed by hand since: drift. Optional so hand-built fixtures need not set it.
   */
  appliedHash?: string | null;
}

/**
 * A live object without its content (metadata, spec): what a diff needs to tell which objects changed.
 * Serve's sync lists these instead of every object, and reads the content of the changed ones only.
 */
export type LiveObjectSummary = Pick<LiveObject, 'kind' | 'name' | 'hash' | 'managedBy' | 'retiredAt'> & {
  appliedHash: string | null;
};

/** A live object as the engine runs it: its spec, and whether it is retired; no metadata, hashes or owner. */
export type LiveObjectSpec = Pick<LiveObject, 'kind' | 'name' | 'spec' | 'retiredAt'>;

/** The content of a create or update. */
export interface ObjectContent<K extends Kind = Kind> {
  kind: K;
  name: string;
  metadata: ObjectMetadata;
  spec: SpecByKind[K];
  hash: string;
}

export type ObjectWrite =
  | { action: 'create' | 'update'; object: ObjectContent }
  | {
      action: 'create' | 'update';
      object: Omit<ObjectContent, 'spec'>;
      /** The spec as JSON text (JSON.stringify of it), made already: the store keeps it as it is. */
      specJson: string;
    }
  | { action: 'delete'; kind: Kind; name: string };

export interface ApplyWritesOptions {
  /**
   * Refuse (StoreError) when the store's generation is no longer this one: the live state changed
   * between reading it for a plan and applying that plan, so the plan may be stale.
   */
  expectGeneration?: number;
  /**
   * A replica's leadership as it believed it when it planned: the store refuses the write (StoreError
   * 'fenced') unless that lease is still the live one. Stores without replicas (SQLite) have no leader.
   */
  fence?: LeaderFence;
  /** The apply's audit lines, kept in its transaction until they are appended (see PendingAudit). */
  audit?: PendingAudit;
}

/**
 * Audit lines of one committed change, kept in the store by the change's own transaction and deleted once
 * they are in the audit log: a kill between the commit and the append leaves them here, not lost.
 */
export interface PendingAudit {
  /** Unique per change (a UUID), so marking it written cannot touch another's. */
  id: string;
  entries: AuditEntry[];
}

/** The fencing token of a leader: who led, and the epoch its lease was taken at. */
export interface LeaderFence {
  replica: string;
  epoch: number;
}

/** The leader lease after a replica tried to take or renew it. */
export interface LeaderTerm {
  /** The replica that holds the lease now. */
  leader: string;
  epoch: number;
  leaseUntil: Date;
  /** True when the caller holds it. */
  leading: boolean;
}

/** A replica with a live heartbeat. */
export interface ReplicaPeer {
  id: string;
  /** Its API address, as it was told to listen. */
  listen: string | null;
  seenAt: string;
}

/** What replicas sharing one store coordinate through it: a PostgreSQL store has it, SQLite does not. */
export interface ReplicaRegistry {
  lead(replica: string, leaseMs: number): Promise<LeaderTerm>;
  resign(replica: string): Promise<void>;
  heartbeat(replica: string, listen: string | null): Promise<void>;
  peers(ttlMs: number): Promise<ReplicaPeer[]>;
  leave(replica: string): Promise<void>;
  /** `onChange` after any other process's object write commits; `onLost` when the feed breaks. */
  watchChanges(onChange: () => void, onLost: (err: Error) => void): Promise<void>;
}

export interface AppliedRevision {
  revision: string;
  appliedAt: string;
}

/**
 * Why a reconcile attempt ended as it did (Flux's status reasons): the first four are failures that leave
 * the last applied state in place; `pending` is a plan waiting because applying is off.
 */
export type SyncReason =
  'source-failed' | 'invalid' | 'refused' | 'stale-plan' | 'pending' | 'unchanged' | 'applied';

/** One reconcile attempt as the store keeps it, so a restarted engine and `taskops status` still show it. */
export interface SyncAttempt {
  at: string;
  /** The revision read from the source (null when the source could not be read at all). */
  revision: string | null;
  reason: SyncReason;
  /** What went wrong and what to do; null for applied, unchanged and pending. */
  message: string | null;
  /** The invalid manifests' problems, each with its file:line:col. */
  problems: ManifestProblem[];
  summary: { create: number; update: number; delete: number };
}

/** The persisted sync status: the last attempt, and the last revision the live state was brought to. */
export interface SyncStatusRecord {
  lastAttempt: SyncAttempt;
  /** Set by an attempt that applied its revision or found the live state already matching it. */
  lastApplied: { revision: string; at: string } | null;
}

export type EventFieldValue = string | number | boolean;

/**
 * Who emitted an event: `engine` for the engine's own (tasks/*, webhooks/*). Runs such events start emit none
 * themselves, so an alert task that fails cannot alert on itself forever (the loop guard).
 */
export type EventOrigin = 'external' | 'engine';

export interface EngineEvent {
  id: string;
  type: string;
  name: string;
  object: string | null;
  fields: Record<string, EventFieldValue>;
  at: string;
  /** Absent means `external`. */
  origin?: EventOrigin;
}

export interface StoredEvent extends EngineEvent {
  status: 'pending' | 'processed';
}

/**
 * Every state a run can be in (CONTRACT §6). Waiting: `queued` (for a slot), `delayed` (for its next attempt
 * time). `running`: owned by one engine under a lease. Final: `succeeded`, `failed`, `skipped` (never started),
 * `interrupted` (cut off more often than it may be retried), `cancelled` (stopped while waiting for a retry).
 * Each transition is one Store method below, a compare-and-set on the state it expects.
 */
export type RunStatus =
  'queued' | 'delayed' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'cancelled';

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'delayed',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'interrupted',
  'cancelled',
];

/** The states a run ends in: no transition leaves them. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'skipped',
  'interrupted',
  'cancelled',
];

export interface RunTrigger {
  kind: 'schedule' | 'event' | 'manual' | 'replay';
  /** Schedule name, EventTrigger name, the replayed run's id (replay), or null for manual runs. */
  name: string | null;
  /** The event id, for event-triggered runs. */
  event: string | null;
  /** Schedule runs: the slot (ISO instant) the schedule was due, which may be earlier than the run's start. */
  scheduledFor?: string;
  /** Schedule runs: true when the run stands in for a slot missed during downtime, a suspend or a clock jump. */
  catchUp?: boolean;
  /** Manual runs (`run --keep`): a test run that leaves a deleteAfterRun task in place. */
  keep?: boolean;
}

/** A webhook its receiver disabled with 410 Gone: deliveries to it fail at once until it is enabled or changed. */
export interface DisabledWebhook {
  /** The status that disabled it (410). */
  status: number;
  /** When the answer came. */
  at: string;
  /** The run whose attempt got it. */
  runId: string;
  /** The spec it was disabled with: a change of the Webhook in git (another hash) enables it again. */
  specHash: string;
}

/** What became of a schedule slot: its runs were started, or it was reported missed and never run. */
export type FiringOutcome = 'fired' | 'missed';

/**
 * A schedule slot claimed together with its runs (`insertRuns` with `firing`): the slot and the runs commit in
 * one transaction or not at all, so no crash between them can leave a slot recorded whose runs were never stored.
 */
export interface SlotFiring {
  schedule: string;
  scheduledFor: Date;
  outcome: FiringOutcome;
  catchUp: boolean;
  recordedAt: Date;
}

/** What `insertRuns` commits with the runs: an event's acknowledgement or a schedule slot (one of the two). */
export interface InsertRunsOptions {
  /** The event whose runs these are: marked processed in the same transaction. */
  processedEvent?: string;
  /**
   * The schedule slot whose runs these are: recorded in the firing ledger in the same transaction. When the
   * slot was recorded already (another engine, a replayed timer, before a restart), nothing is stored and
   * every run reports false.
   */
  firing?: SlotFiring;
}

/** One row of the firing ledger: a schedule slot (schedule, scheduledFor) is recorded at most once. */
export interface FiringRecord {
  schedule: string;
  /** The slot: the ISO instant the schedule was due. */
  scheduledFor: string;
  outcome: FiringOutcome;
  catchUp: boolean;
  /** When the engine that won the slot recorded it. */
  recordedAt: string;
}

/** How one attempt of a run ended: data on the run, one entry per attempt, oldest first. */
export interface RunAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** ISO 8601 start of the attempt. */
  at: string;
  durationMs: number;
  /** `interrupted`: the engine stopped (shutdown, or its lease expired) before the attempt ended. */
  outcome: 'succeeded' | 'failed' | 'interrupted';
  error?: string;
}

/**
 * What a delivery is, fixed before its first attempt and reused by every later one, across restarts, so a
 * receiver can drop a duplicate: the webhook's `webhook-id` and the exact body sent.
 */
export interface DeliveryIdentity {
  id: string;
  body: string;
}

export interface RunRecord {
  runId: string;
  task: string;
  status: RunStatus;
  trigger: RunTrigger;
  target: { objectType: string; name: string | null };
  queuedAt: string;
  /** When the first attempt started. */
  startedAt: string | null;
  finishedAt: string | null;
  /** From the first attempt's start to the end, waits between attempts included. */
  durationMs: number | null;
  /** Attempts started so far; in a final state, a last attempt that did nothing (refused before acting) is not counted. */
  attempts: number;
  error: string | null;
  /** Driver-specific outcome: per-attempt results for webhooks, exit code and output for commands. */
  details: unknown;
  /** When the current attempt started (running), or the last one did. */
  attemptStartedAt: string | null;
  /** `delayed`: when the next attempt is due. */
  nextAttemptAt: string | null;
  /** The engine instance that runs it (`running`), or ran its last attempt. */
  owner: string | null;
  /** `running`: the owner's claim holds until then; past it, recovery may interrupt the run. */
  leaseUntil: string | null;
  /** Attempts cut off by an engine stopping; past the limit the run ends `interrupted`. */
  interruptions: number;
  attemptLog: RunAttempt[];
  delivery: DeliveryIdentity | null;
}

/** Taking a waiting run: the engine that will run it and how long its claim holds without renewal. */
export interface RunClaim {
  owner: string;
  leaseUntil: Date;
  at: Date;
  /** Stored only when the run has none yet: the first claim fixes a delivery's identity. */
  delivery?: DeliveryIdentity | null;
}

/** An attempt that ended: `delayRun` waits for another one, `finishRun` ends the run. */
export interface AttemptEnd {
  attempt: RunAttempt;
  error: string | null;
  details: unknown;
}

export interface RunRetry extends AttemptEnd {
  nextAttemptAt: Date;
}

export interface RunOutcome extends AttemptEnd {
  status: 'succeeded' | 'failed' | 'interrupted' | 'cancelled';
  at: Date;
  durationMs: number;
  /** False when the last attempt did nothing (refused before acting): it is then not counted in `attempts`. */
  acted?: boolean;
  /**
   * The engine's own events about this end (tasks/succeeded|failed, webhooks/exhausted), stored in the same
   * transaction as the end, and not at all when the finish is lost: no crash between the two can lose the
   * event a failure alert hangs on. `processed`: no trigger listens, so it is stored already processed.
   */
  events?: ReadonlyArray<{ event: EngineEvent; processed: boolean }>;
  /**
   * Called with the ended run as soon as its end is stored, before the promise settles and with nothing else
   * run in between (SQLite: right after the commit): the task-log line then follows the end at once, so a
   * kill -9 cannot fall between the two while other work (a spawned process) runs. Not called when lost.
   */
  onRecorded?: (run: RunRecord) => void;
}

/** Ending a run that is not running: `skipped` when it never started, `cancelled` when it waited for a retry. */
export interface RunCancel {
  status: 'skipped' | 'cancelled';
  at: Date;
  error: string;
}

export type WaitingRunStatus = 'queued' | 'delayed';

export interface RunFilter {
  task?: string;
  /** The run's target object type (`webhook` for deliveries). */
  objectType?: string;
  /** The run's target name (the Webhook of a delivery). */
  target?: string;
  status?: RunStatus[];
  since?: string;
  limit?: number;
  offset?: number;
}

/**
 * The live engine state. Async so that a shared PostgreSQL store can slot in
 * without touching reconcile or engine.
 */
export interface Store {
  listObjects(kind?: Kind): Promise<LiveObject[]>;
  /** Every live object's kind, name, hashes, owner and retirement, in listObjects' order, without parsing content. */
  listObjectSummaries(): Promise<LiveObjectSummary[]>;
  /**
   * listObjectSummaries one at a time, keeping none: `visit` sees each summary in the same order until it
   * answers false. Resolves true when every object was visited. Serve's unchanged restart compares 100,000s of
   * objects this way without holding them all at once.
   */
  visitObjectSummaries(visit: (o: LiveObjectSummary) => boolean): Promise<boolean>;
  /** Every live object's kind, name, spec and retirement, in listObjects' order: the engine's (re)load. */
  listObjectSpecs(): Promise<LiveObjectSpec[]>;
  getObject<K extends Kind>(kind: K, name: string): Promise<LiveObject<K> | undefined>;
  /** All writes in one transaction, recorded with the revision they came from; sets the applied revision. */
  applyWrites(writes: ObjectWrite[], revision: string, at: Date, opts?: ApplyWritesOptions): Promise<void>;
  /** A change made by hand (through the API): marked managedBy 'api' on create, shows as drift on update. */
  putObjectByHand(object: ObjectContent, at: Date): Promise<void>;
  retireTask(name: string, at: Date, audit?: PendingAudit): Promise<void>;
  /** The audit lines kept under `id` are in the audit log. */
  auditWritten(id: string): Promise<void>;
  /**
   * Hands the kept audit lines to `write`, which appends those it takes and answers their ids; the store
   * forgets those in the same transaction. One process at a time (another finds the store busy and gets
   * none): two replicas recovering at once would append the same lines. Answers the count taken.
   */
  takePendingAudits(write: (audits: PendingAudit[]) => readonly string[]): Promise<number>;
  getAppliedRevision(): Promise<AppliedRevision | null>;
  /** Increases on every object write, so another process can notice changes cheaply. */
  generation(): Promise<number>;

  /** Records a reconcile attempt; `applied` and `unchanged` ones also become the last applied revision. */
  recordSyncAttempt(attempt: SyncAttempt, fence?: LeaderFence): Promise<void>;
  /** The last recorded reconcile attempt (null before the first). */
  getSyncStatus(): Promise<SyncStatusRecord | null>;

  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  addEvent(event: EngineEvent): Promise<void>;
  /** Several events in one transaction (group commit); ids in `processed` are stored as already processed. */
  addEvents(events: readonly EngineEvent[], processed?: ReadonlySet<string>): Promise<void>;
  pendingEvents(limit?: number): Promise<StoredEvent[]>;
  /** Events recorded since `since` (processed or not), oldest first: plans count what a changed trigger matches. */
  eventsSince(since: Date, limit?: number): Promise<StoredEvent[]>;
  /** An event by id (processed or not): recovered runs need the event that caused them. */
  getEvent(id: string): Promise<StoredEvent | undefined>;
  markEventProcessed(id: string): Promise<void>;

  /**
   * Run transitions. Each is one store operation that names the state it expects (and, for a running run, its
   * owner); a caller that lost the race gets `false`, `null` or nothing back, never an exception, and must do
   * nothing. Store failures (disk full, read-only) reject with a StoreError.
   *
   *   (none) ──insertRun──▶ queued | running | skipped
   *   queued | delayed ──claimRun──▶ running ──finishRun──▶ succeeded | failed | interrupted | cancelled
   *   running ──delayRun──▶ delayed        running (lease expired) ──interruptExpired──▶ delayed | interrupted
   *   queued | delayed ──cancelRun──▶ skipped | cancelled      running ──renewLeases──▶ running (lease extended)
   */
  /** Insert-or-ignore on the run id: false when the run exists already (the same event or firing processed again). */
  insertRun(run: RunRecord): Promise<boolean>;
  /**
   * Several `insertRun`s in one transaction, with `processedEvent` marked processed, or the `firing` slot
   * recorded, in the same one: an event's runs and its acknowledgement, or a slot and its runs, are one step.
   * One boolean per run: inserted, or already there (or its slot was).
   */
  insertRuns(runs: readonly RunRecord[], opts?: InsertRunsOptions): Promise<boolean[]>;
  /**
   * queued | delayed (due by `claim.at`) → running, owned by `claim.owner`; attempts + 1. Null when lost.
   * `seen`, here and in `delayRun`/`finishRun`: the run's record as the caller last got it from the store
   * (inserted, read, or returned by the previous transition). A store may derive the result from it instead of
   * reading the row back (src/store/transitions.ts says why that is exact); the result is the same.
   */
  claimRun(
    runId: string,
    from: WaitingRunStatus,
    claim: RunClaim,
    seen?: RunRecord,
  ): Promise<RunRecord | null>;
  /** Extends the leases of `owner`'s running runs among `runIds`; returns the ids still owned. */
  renewLeases(owner: string, runIds: readonly string[], until: Date): Promise<string[]>;
  /**
   * running (owned, at attempt `retry.attempt.attempt`) → delayed until `retry.nextAttemptAt`, the attempt
   * logged. Null when the run is no longer at that attempt of that owner (recovered, maybe taken again).
   */
  delayRun(runId: string, owner: string, retry: RunRetry, seen?: RunRecord): Promise<RunRecord | null>;
  /** running (owned, at attempt `outcome.attempt.attempt`) → a final state, the attempt logged. Null when lost. */
  finishRun(runId: string, owner: string, outcome: RunOutcome, seen?: RunRecord): Promise<RunRecord | null>;
  /** queued | delayed → skipped | cancelled. Null when the run was no longer in `from`. */
  cancelRun(runId: string, from: WaitingRunStatus, end: RunCancel): Promise<RunRecord | null>;
  /**
   * Every running run whose lease ended before `now` (its engine died or hung): delayed for another attempt due
   * at once, or `interrupted` for good once cut off more than `maxInterruptions` times. Returns them as changed.
   */
  interruptExpired(now: Date, maxInterruptions: number): Promise<RunRecord[]>;
  /** The task-log lines of these ended runs are written: marks them (a run not yet final is left unmarked). */
  markLogged(runIds: readonly string[]): Promise<void>;
  /**
   * Runs that ended before `before` and were never marked logged (an engine died between storing a run's end
   * and writing or marking its task-log line), oldest first, at most `limit`: `write` is given them and they
   * are marked in the same transaction, so a failing `write` marks nothing. One engine at a time: another
   * engine sweeping now gets none. Returns how many were given.
   */
  logUnlogged(before: Date, limit: number, write: (runs: RunRecord[]) => void): Promise<number>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;

  /**
   * Claims a schedule slot in the firing ledger without runs (the engine records a slot with its runs through
   * `insertRuns` with `firing`). True when this call recorded it; false when it was already recorded (by
   * another engine, a replayed timer, or before a restart), and then the caller must neither run nor report it.
   */
  recordFiring(
    schedule: string,
    scheduledFor: Date,
    firing: { outcome: FiringOutcome; catchUp: boolean; recordedAt: Date },
  ): Promise<boolean>;
  /** Each schedule's latest recorded slot (fired or missed): the watermark catch-up starts from. Never moves back. */
  lastFirings(): Promise<Map<string, Date>>;
  /** The ledger of one schedule (or all), oldest slot first. */
  listFirings(schedule?: string): Promise<FiringRecord[]>;

  /**
   * Webhooks disabled by their receiver (410 Gone), one mark per webhook: setting or clearing one is a single
   * write that leaves every other webhook's mark as it is, whatever number of engines share the store.
   */
  disableWebhook(name: string, entry: DisabledWebhook): Promise<void>;
  /** Clears one webhook's mark; false when it had none. */
  enableWebhook(name: string): Promise<boolean>;
  getDisabledWebhook(name: string): Promise<DisabledWebhook | undefined>;
  /** Every mark, by webhook name (in name order). */
  listDisabledWebhooks(): Promise<Map<string, DisabledWebhook>>;

  /**
   * Retention: deletes finished runs and processed events queued before `before`, and ledger slots before
   * it; the watermarks stay. Returns how many rows went.
   */
  pruneActivity(before: Date): Promise<number>;

  close(): Promise<void>;

  /** Present when several engines may share the store (PostgreSQL): leader lease, heartbeats, change feed. */
  readonly replicas?: ReplicaRegistry;
}
