import type { Kind } from '../manifest/types.js';
import type { LiveObject, ManagedBy, RunRecord, RunStatus, RunTrigger, StoredEvent } from './types.js';

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

export function objectFromRow(row: ObjectRow): LiveObject {
  return {
    kind: row.kind as Kind,
    name: row.name,
    metadata: JSON.parse(row.metadata),
    spec: JSON.parse(row.spec),
    hash: row.hash,
    appliedHash: row.applied_hash,
    managedBy: row.managed_by as ManagedBy,
    revision: row.revision,
    updatedAt: row.updated_at,
    retiredAt: row.retired_at,
  };
}

export interface EventRow {
  id: string;
  type: string;
  name: string;
  object: string | null;
  fields: string;
  at: string;
  status: string;
}

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    object: row.object,
    fields: JSON.parse(row.fields),
    at: row.at,
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
  };
}

/** Only schedule runs carry their slot; other triggers keep the three-field shape. */
function triggerFromRow(row: RunRow): RunTrigger {
  const trigger: RunTrigger = {
    kind: row.trigger_kind as RunTrigger['kind'],
    name: row.trigger_name,
    event: row.trigger_event,
  };
  if (row.trigger_scheduled_for !== null) trigger.scheduledFor = row.trigger_scheduled_for;
  if (row.trigger_catch_up !== null) trigger.catchUp = row.trigger_catch_up === 1;
  return trigger;
}

const catchUpColumn = (catchUp: boolean | undefined): number | null =>
  catchUp === undefined ? null : catchUp ? 1 : 0;

export type RunPatch = Partial<Omit<RunRecord, 'runId'>>;

/**
 * The columns behind the fields a patch carries (its own keys, as a spread would copy them), in table order,
 * with their values: the same mapping as `runToRow`, so a patched column stores what a full rewrite would.
 * A `runId` in the patch is ignored: the run to update is named separately.
 */
export function runPatchColumns(patch: RunPatch): Array<[column: keyof RunRow, value: unknown]> {
  const has = (field: keyof RunPatch) => Object.hasOwn(patch, field);
  const columns: Array<[keyof RunRow, unknown]> = [];
  if (has('task')) columns.push(['task', patch.task]);
  if (has('status')) columns.push(['status', patch.status]);
  if (has('trigger')) {
    const trigger = patch.trigger!;
    columns.push(
      ['trigger_kind', trigger.kind],
      ['trigger_name', trigger.name],
      ['trigger_event', trigger.event],
      ['trigger_scheduled_for', trigger.scheduledFor ?? null],
      ['trigger_catch_up', catchUpColumn(trigger.catchUp)],
    );
  }
  if (has('target')) {
    const target = patch.target!;
    columns.push(['target_object_type', target.objectType], ['target_name', target.name]);
  }
  if (has('queuedAt')) columns.push(['queued_at', patch.queuedAt]);
  if (has('startedAt')) columns.push(['started_at', patch.startedAt]);
  if (has('finishedAt')) columns.push(['finished_at', patch.finishedAt]);
  if (has('durationMs')) columns.push(['duration_ms', patch.durationMs]);
  if (has('attempts')) columns.push(['attempts', patch.attempts]);
  if (has('error')) columns.push(['error', patch.error]);
  if (has('details')) columns.push(['details', detailsToColumn(patch.details)]);
  return columns;
}

function detailsToColumn(details: unknown): string | null {
  return details === undefined || details === null ? null : JSON.stringify(details);
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
    details: detailsToColumn(run.details),
    trigger_scheduled_for: run.trigger.scheduledFor ?? null,
    trigger_catch_up: catchUpColumn(run.trigger.catchUp),
  };
}
