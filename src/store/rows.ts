import { KINDS, type Kind } from '../manifest/types.js';
import type {
  DeliveryIdentity,
  FiringOutcome,
  FiringRecord,
  LiveObject,
  LiveObjectSpec,
  LiveObjectSummary,
  ManagedBy,
  RunAttempt,
  RunRecord,
  RunStatus,
  RunTrigger,
  StoredEvent,
} from './types.js';
import { FINAL_RUN_STATUSES } from './types.js';

/** Row shapes of the SQLite tables and their mapping to the Store's records. */
export interface ObjectRow {
  kind: string;
  name: string;
  metadata: string;
  spec: string;
  hash: string;
  applied_hash: string | null;
  managed_by: string;
  revision: string | null;
  updated_at: string;
  retired_at: string | null;
}

/** The one string of each kind and owner, instead of a copy per row: 100,000s of rows come back at once. */
const KIND_NAMES = new Map<string, Kind>(KINDS.map((k) => [k, k]));
const kindOf = (text: string): Kind => KIND_NAMES.get(text) ?? (text as Kind);
const ownerOf = (text: string): ManagedBy =>
  text === 'taskops' ? 'taskops' : text === 'api' ? 'api' : (text as ManagedBy);

/** The applied hash, as the very string of `hash` when equal (nearly always): one string per object, not two. */
const appliedHashOf = (row: { hash: string; applied_hash: string | null }): string | null =>
  row.applied_hash === row.hash ? row.hash : row.applied_hash;

/** The final run states as an SQL list, for `status IN (…)`. */
export const FINAL_STATUS_SQL = FINAL_RUN_STATUSES.map((status) => `'${status}'`).join(', ');

export function objectFromRow(row: ObjectRow): LiveObject {
  return {
    kind: kindOf(row.kind),
    name: row.name,
    metadata: JSON.parse(row.metadata),
    spec: JSON.parse(row.spec),
    hash: row.hash,
    appliedHash: appliedHashOf(row),
    managedBy: ownerOf(row.managed_by),
    revision: row.revision,
    updatedAt: row.updated_at,
    retiredAt: row.retired_at,
  };
}

/** The columns listObjectSummaries selects. */
export const SUMMARY_COLUMNS = 'kind, name, hash, applied_hash, managed_by, retired_at';

export type SummaryRow = Pick<
  ObjectRow,
  'kind' | 'name' | 'hash' | 'applied_hash' | 'managed_by' | 'retired_at'
>;

export function summaryFromRow(row: SummaryRow): LiveObjectSummary {
  return {
    kind: kindOf(row.kind),
    name: row.name,
    hash: row.hash,
    appliedHash: appliedHashOf(row),
    managedBy: ownerOf(row.managed_by),
    retiredAt: row.retired_at,
  };
}

/** The columns listObjectSpecs selects. */
export const SPEC_COLUMNS = 'kind, name, spec, retired_at';

export type SpecRow = Pick<ObjectRow, 'kind' | 'name' | 'spec' | 'retired_at'>;

export function specFromRow(row: SpecRow): LiveObjectSpec {
  return { kind: kindOf(row.kind), name: row.name, spec: JSON.parse(row.spec), retiredAt: row.retired_at };
}

export interface EventRow {
  id: string;
  type: string;
  name: string;
  object: string | null;
  fields: string;
  at: string;
  status: string;
  origin: string;
}

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    object: row.object,
    fields: JSON.parse(row.fields),
    at: row.at,
    // Absent means external, as on the way in.
    ...(row.origin === 'engine' ? { origin: 'engine' as const } : {}),
    status: row.status as StoredEvent['status'],
  };
}

export interface RunRow {
  run_id: string;
  task: string;
  status: string;
  trigger_kind: string;
  trigger_name: string | null;
  trigger_event: string | null;
  target_object_type: string;
  target_name: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  attempts: number;
  error: string | null;
  details: string | null;
  trigger_scheduled_for: string | null;
  trigger_catch_up: number | null;
  trigger_keep: number | null;
  attempt_started_at: string | null;
  next_attempt_at: string | null;
  owner: string | null;
  lease_until: string | null;
  interruptions: number;
  attempt_log: string;
  delivery: string | null;
}

export function runFromRow(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    task: row.task,
    status: row.status as RunStatus,
    trigger: triggerFromRow(row),
    target: { objectType: row.target_object_type, name: row.target_name },
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    attempts: row.attempts,
    error: row.error,
    details: row.details === null ? null : JSON.parse(row.details),
    attemptStartedAt: row.attempt_started_at,
    nextAttemptAt: row.next_attempt_at,
    owner: row.owner,
    leaseUntil: row.lease_until,
    interruptions: row.interruptions,
    attemptLog: JSON.parse(row.attempt_log) as RunAttempt[],
    delivery: row.delivery === null ? null : (JSON.parse(row.delivery) as DeliveryIdentity),
  };
}

/** Only schedule runs carry their slot, and only kept manual runs a keep mark; others keep the three-field shape. */
function triggerFromRow(row: RunRow): RunTrigger {
  const trigger: RunTrigger = {
    kind: row.trigger_kind as RunTrigger['kind'],
    name: row.trigger_name,
    event: row.trigger_event,
  };
  if (row.trigger_scheduled_for !== null) trigger.scheduledFor = row.trigger_scheduled_for;
  if (row.trigger_catch_up !== null) trigger.catchUp = row.trigger_catch_up === 1;
  if (row.trigger_keep === 1) trigger.keep = true;
  return trigger;
}

const catchUpColumn = (catchUp: boolean | undefined): number | null =>
  catchUp === undefined ? null : catchUp ? 1 : 0;

/** JSON text for a JSON column; null and undefined are SQL NULL. */
export function jsonColumn(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export function runToRow(run: RunRecord): RunRow {
  return {
    run_id: run.runId,
    task: run.task,
    status: run.status,
    trigger_kind: run.trigger.kind,
    trigger_name: run.trigger.name,
    trigger_event: run.trigger.event,
    target_object_type: run.target.objectType,
    target_name: run.target.name,
    queued_at: run.queuedAt,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    duration_ms: run.durationMs,
    attempts: run.attempts,
    error: run.error,
    details: jsonColumn(run.details),
    trigger_scheduled_for: run.trigger.scheduledFor ?? null,
    trigger_catch_up: catchUpColumn(run.trigger.catchUp),
    trigger_keep: run.trigger.keep ? 1 : null,
    attempt_started_at: run.attemptStartedAt,
    next_attempt_at: run.nextAttemptAt,
    owner: run.owner,
    lease_until: run.leaseUntil,
    interruptions: run.interruptions,
    attempt_log: JSON.stringify(run.attemptLog),
    delivery: jsonColumn(run.delivery),
  };
}

/** A row of the firing ledger, as both stores return it. */
export interface FiringRow {
  schedule: string;
  scheduled_for: string;
  outcome: string;
  catch_up: number;
  recorded_at: string;
}

export function firingFromRow(r: FiringRow): FiringRecord {
  return {
    schedule: r.schedule,
    scheduledFor: r.scheduled_for,
    outcome: r.outcome as FiringOutcome,
    catchUp: r.catch_up === 1,
    recordedAt: r.recorded_at,
  };
}
