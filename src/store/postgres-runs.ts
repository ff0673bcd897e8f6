import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { StoreError } from './errors.js';
import {
  eventFromRow,
  FINAL_STATUS_SQL,
  jsonColumn,
  runFromRow,
  runToRow,
  type EventRow,
  type RunRow,
} from './rows.js';
import type {
  EngineEvent,
  RunCancel,
  RunClaim,
  RunFilter,
  RunOutcome,
  RunRecord,
  RunRetry,
  StoredEvent,
  WaitingRunStatus,
} from './types.js';

export type Queryable = Pool | PoolClient;

/** Milliseconds from the SQL expression `from` to `to` (ISO 8601 text), as an integer. */
const msBetween = (from: string, to: string) =>
  `round(extract(epoch FROM ((${to})::text::timestamptz - (${from})::text::timestamptz)) * 1000)::bigint`;

/** Appends the JSON text `attempt` to a run's attempt log (text, so it reads back as written elsewhere). */
const appendAttempt = (attempt: string) => `(attempt_log::jsonb || jsonb_build_array(${attempt}))::text`;

const INTERRUPTED_ERROR = `'interrupted: engine ' || COALESCE(owner, '(unknown)') || ' stopped while this run was in flight (its lease expired)'`;
const CUT_OFF = 'interruptions + 1 > $2';
/** The advisory lock key of the task-log sweep (any constant unique to taskops; the migration's is 7_413_001). */
const TASK_LOG_SWEEP_LOCK = 7_413_002;
const RUN_COLUMNS = [
  'run_id',
  'task',
  'status',
  'trigger_kind',
  'trigger_name',
  'trigger_event',
  'target_object_type',
  'target_name',
  'queued_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'attempts',
  'error',
  'details',
  'trigger_scheduled_for',
  'trigger_catch_up',
  'attempt_started_at',
  'next_attempt_at',
  'owner',
  'lease_until',
  'interruptions',
  'attempt_log',
  'delivery',
  'trigger_keep',
] as const;

/*
 * Each run transition is one UPDATE … WHERE on the state it expects, RETURNING the changed row. Under READ
 * COMMITTED a second UPDATE of the same row waits for the first to commit and then re-checks its WHERE on
 * the new row, so exactly one of two racing replicas gets the row back. Statements are named: each pooled
 * connection prepares them once.
 */
const FINISH = `UPDATE runs SET status = $3, lease_until = NULL, finished_at = $5, duration_ms = $6,
      attempts = attempts - $4, interruptions = interruptions + $7, attempt_log = ${appendAttempt('$8::jsonb')},
      error = $10, details = $11
    WHERE run_id = $1 AND status = 'running' AND owner = $2 AND attempts = $9`;

const SQL = {
  insertEvent: `INSERT INTO events (id, type, name, object, fields, at, status, processed_at, origin)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
  insertRun: `INSERT INTO runs (${RUN_COLUMNS.join(', ')})
    VALUES (${RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (run_id) DO NOTHING`,
  eventsSince: 'SELECT * FROM events WHERE at >= $1 ORDER BY at, seq LIMIT $2',
  // One statement, so one round trip: the event's runs and its acknowledgement commit together, and nothing
  // is stored when the event to mark does not exist. Rows arrive as JSON named by column (runToRow).
  insertRunsMarking: `WITH ev AS (
      UPDATE events SET status = 'processed', processed_at = $2 WHERE id = $3 RETURNING id
    ), ins AS (
      INSERT INTO runs SELECT r.* FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n),
        jsonb_populate_record(NULL::runs, e.doc) AS r
      WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM ev)
      ORDER BY e.n
      ON CONFLICT (run_id) DO NOTHING RETURNING run_id
    )
    SELECT (SELECT count(*) FROM ev)::int AS marked, COALESCE((SELECT array_agg(run_id) FROM ins), '{}') AS inserted`,
  // Several events in one statement, stored in the order given (seq follows the ordinality).
  insertEvents: `INSERT INTO events (id, type, name, object, fields, at, status, processed_at, origin)
    SELECT r.id, r.type, r.name, r.object, r.fields, r.at, r.status, r.processed_at, r.origin
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n), jsonb_populate_record(NULL::events, e.doc) AS r
    ORDER BY e.n
    ON CONFLICT (id) DO NOTHING`,
  getRun: 'SELECT * FROM runs WHERE run_id = $1',
  getEvent: 'SELECT * FROM events WHERE id = $1',
  pendingEvents: `SELECT * FROM events WHERE status = 'pending' ORDER BY seq LIMIT $1`,
  markProcessed: `UPDATE events SET status = 'processed', processed_at = $1 WHERE id = $2`,
  pruneRuns: `DELETE FROM runs WHERE queued_at < $1 AND status IN (${FINAL_STATUS_SQL})`,
  // Only a final run is marked: an interrupted attempt's line is not its end.
  markLogged: `UPDATE runs SET logged = true WHERE run_id = ANY($1::text[]) AND status IN (${FINAL_STATUS_SQL})`,
  unlogged: `SELECT * FROM runs
    WHERE logged IS NULL AND finished_at COLLATE "C" < $1 AND status IN (${FINAL_STATUS_SQL})
    ORDER BY finished_at COLLATE "C" LIMIT $2`,
  lockTaskLogSweep: 'SELECT pg_try_advisory_xact_lock($1) AS locked',
  pruneEvents: `DELETE FROM events WHERE at < $1 AND status = 'processed'`,
  // A delayed run is taken only once due, so no replica cuts its backoff short.
  claim: `UPDATE runs SET status = 'running', owner = $3, lease_until = $4, attempts = attempts + 1,
      started_at = COALESCE(started_at, $5), attempt_started_at = $5, next_attempt_at = NULL,
      delivery = COALESCE(delivery, $6)
    WHERE run_id = $1 AND status = $2 AND ($2 = 'queued' OR next_attempt_at <= $5)
    RETURNING *`,
  renew: `UPDATE runs SET lease_until = $3
    WHERE owner = $1 AND status = 'running' AND run_id = ANY($2::text[])
    RETURNING run_id`,
  delay: `UPDATE runs SET status = 'delayed', owner = NULL, lease_until = NULL, next_attempt_at = $3,
      interruptions = interruptions + $4, attempt_log = ${appendAttempt('$5::jsonb')}, error = $7, details = $8
    WHERE run_id = $1 AND status = 'running' AND owner = $2 AND attempts = $6
    RETURNING *`,
  finish: `${FINISH} RETURNING *`,
  // The finish and the engine's events about it in one statement: the events only if the finish won.
  finishEmitting: `WITH f AS (${FINISH} RETURNING *), e AS (
      INSERT INTO events (id, type, name, object, fields, at, status, processed_at, origin)
      SELECT r.id, r.type, r.name, r.object, r.fields, r.at, r.status, r.processed_at, r.origin
      FROM jsonb_array_elements($12::jsonb) WITH ORDINALITY AS x(doc, n), jsonb_populate_record(NULL::events, x.doc) AS r
      WHERE EXISTS (SELECT 1 FROM f)
      ORDER BY x.n
      ON CONFLICT (id) DO NOTHING
    )
    SELECT * FROM f`,
  cancel: `UPDATE runs SET status = $3, started_at = COALESCE(started_at, $4), finished_at = $4,
      duration_ms = ${msBetween('COALESCE(started_at, $4)', '$4')}, next_attempt_at = NULL, error = $5
    WHERE run_id = $1 AND status = $2
    RETURNING *`,
  // SKIP LOCKED: replicas recovering at the same moment split the expired runs instead of queueing on them.
  // Rows from before leases (no lease_until) count as expired: their engine is gone.
  interrupt: `UPDATE runs SET
      interruptions = interruptions + 1,
      status = CASE WHEN ${CUT_OFF} THEN 'interrupted' ELSE 'delayed' END,
      next_attempt_at = CASE WHEN ${CUT_OFF} THEN NULL ELSE $1 END,
      finished_at = CASE WHEN ${CUT_OFF} THEN $1 ELSE NULL END,
      duration_ms = CASE WHEN ${CUT_OFF} THEN ${msBetween('COALESCE(started_at, $1)', '$1')} ELSE NULL END,
      owner = CASE WHEN ${CUT_OFF} THEN owner ELSE NULL END,
      lease_until = NULL,
      error = ${INTERRUPTED_ERROR},
      attempt_log = ${appendAttempt(
        `jsonb_build_object('attempt', attempts, 'at', COALESCE(attempt_started_at, started_at, $1),
          'durationMs', ${msBetween('COALESCE(attempt_started_at, started_at, $1)', '$1')},
          'outcome', 'interrupted', 'error', ${INTERRUPTED_ERROR})`,
      )}
    WHERE run_id IN (SELECT run_id FROM runs WHERE status = 'running' AND (lease_until IS NULL OR lease_until < $1)
      FOR UPDATE SKIP LOCKED)
      AND status = 'running' AND (lease_until IS NULL OR lease_until < $1)
    RETURNING *`,
} as const;

async function named<R extends QueryResultRow>(
  db: Queryable,
  name: keyof typeof SQL,
  values: unknown[],
): Promise<R[]> {
  const config: QueryConfig = { name: `taskops_${name}`, text: SQL[name], values };
  return (await db.query<R>(config)).rows;
}

const one = (rows: RunRow[]): RunRecord | null => (rows[0] ? runFromRow(rows[0]) : null);

/** An event as a row of `events`, for the statements that insert rows from a JSON array. */
function eventRow(e: EngineEvent, processed: boolean, at: string) {
  return {
    id: e.id,
    type: e.type,
    name: e.name,
    object: e.object,
    fields: JSON.stringify(e.fields),
    at: e.at,
    status: processed ? 'processed' : 'pending',
    processed_at: processed ? at : null,
    origin: e.origin ?? 'external',
  };
}

/** Durable events and run records: the engine's side of the PostgreSQL store. */
export const pgActivity = {
  async addEvent(db: Queryable, event: EngineEvent, processedAt: string | null = null): Promise<void> {
    await named(db, 'insertEvent', [
      event.id,
      event.type,
      event.name,
      event.object,
      JSON.stringify(event.fields),
      event.at,
      processedAt === null ? 'pending' : 'processed',
      processedAt,
      event.origin ?? 'external',
    ]);
  },

  /** Several events in one statement; those in `processed` are stored as processed at `at`. */
  async addEvents(
    db: Queryable,
    events: readonly EngineEvent[],
    processed: ReadonlySet<string>,
    at: string,
  ): Promise<void> {
    if (events.length === 0) return;
    await named(db, 'insertEvents', [
      JSON.stringify(events.map((e) => eventRow(e, processed.has(e.id), at))),
    ]);
  },

  /**
   * The runs, inserted or ignored by id, with `processedEvent` marked processed in the same statement. One
   * boolean per run: inserted or already there. Not-found (and nothing stored) when the event does not exist.
   */
  async insertRuns(
    db: Queryable,
    runs: readonly RunRecord[],
    processedEvent: string | undefined,
    at: string,
  ): Promise<boolean[]> {
    const [row] = await named<{ marked: number; inserted: string[] }>(db, 'insertRunsMarking', [
      JSON.stringify(runs.map(runToRow)),
      at,
      processedEvent ?? null,
    ]);
    if (processedEvent !== undefined && row!.marked === 0)
      throw new StoreError(`no event with id ${processedEvent} in the store`, 'not-found');
    const inserted = new Set(row!.inserted);
    // A run id given twice in one call is inserted once: the first stands, as with one insert after another.
    const seen = new Set<string>();
    return runs.map((r) => {
      const first = inserted.has(r.runId) && !seen.has(r.runId);
      seen.add(r.runId);
      return first;
    });
  },

  async pendingEvents(db: Queryable, limit = 100): Promise<StoredEvent[]> {
    return (await named<EventRow>(db, 'pendingEvents', [limit])).map(eventFromRow);
  },

  /** Events recorded at or after `since` (processed or not), oldest first, at most `limit`. */
  async eventsSince(db: Queryable, since: string, limit: number): Promise<StoredEvent[]> {
    return (await named<EventRow>(db, 'eventsSince', [since, limit])).map(eventFromRow);
  },

  async getEvent(db: Queryable, id: string): Promise<StoredEvent | undefined> {
    const row = (await named<EventRow>(db, 'getEvent', [id]))[0];
    return row ? eventFromRow(row) : undefined;
  },

  async markEventProcessed(db: Queryable, id: string, at: string): Promise<void> {
    const result = await db.query({
      name: 'taskops_markProcessed',
      text: SQL.markProcessed,
      values: [at, id],
    });
    if (result.rowCount === 0) throw new StoreError(`no event with id ${id} in the store`, 'not-found');
  },

  async prune(db: Queryable, before: string): Promise<number> {
    const runs = await db.query(SQL.pruneRuns, [before]);
    const events = await db.query(SQL.pruneEvents, [before]);
    return (runs.rowCount ?? 0) + (events.rowCount ?? 0);
  },

  /** False when a run with this id was there already. */
  async insertRun(db: Queryable, run: RunRecord): Promise<boolean> {
    const row = runToRow(run);
    const result = await db.query({
      name: 'taskops_insertRun',
      text: SQL.insertRun,
      values: RUN_COLUMNS.map((c) => row[c]),
    });
    return (result.rowCount ?? 0) > 0;
  },

  async claimRun(db: Queryable, runId: string, from: WaitingRunStatus, claim: RunClaim) {
    return one(
      await named<RunRow>(db, 'claim', [
        runId,
        from,
        claim.owner,
        claim.leaseUntil.toISOString(),
        claim.at.toISOString(),
        jsonColumn(claim.delivery),
      ]),
    );
  },

  async renewLeases(db: Queryable, owner: string, runIds: readonly string[], until: Date): Promise<string[]> {
    if (runIds.length === 0) return [];
    const rows = await named<{ run_id: string }>(db, 'renew', [owner, runIds, until.toISOString()]);
    return rows.map((r) => r.run_id);
  },

  async delayRun(db: Queryable, runId: string, owner: string, retry: RunRetry) {
    return one(
      await named<RunRow>(db, 'delay', [
        runId,
        owner,
        retry.nextAttemptAt.toISOString(),
        retry.attempt.outcome === 'interrupted' ? 1 : 0,
        JSON.stringify(retry.attempt),
        retry.attempt.attempt,
        retry.error,
        jsonColumn(retry.details),
      ]),
    );
  },

  async finishRun(db: Queryable, runId: string, owner: string, outcome: RunOutcome) {
    const at = outcome.at.toISOString();
    const events = outcome.events ?? [];
    const emitting = events.length > 0;
    return one(
      await named<RunRow>(db, emitting ? 'finishEmitting' : 'finish', [
        runId,
        owner,
        outcome.status,
        outcome.acted === false ? 1 : 0,
        at,
        outcome.durationMs,
        outcome.attempt.outcome === 'interrupted' ? 1 : 0,
        JSON.stringify(outcome.attempt),
        outcome.attempt.attempt,
        outcome.error,
        jsonColumn(outcome.details),
        ...(emitting
          ? [JSON.stringify(events.map(({ event, processed }) => eventRow(event, processed, at)))]
          : []),
      ]),
    );
  },

  async cancelRun(db: Queryable, runId: string, from: WaitingRunStatus, end: RunCancel) {
    return one(await named<RunRow>(db, 'cancel', [runId, from, end.status, end.at.toISOString(), end.error]));
  },

  async interruptExpired(db: Queryable, now: Date, maxInterruptions: number): Promise<RunRecord[]> {
    return (await named<RunRow>(db, 'interrupt', [now.toISOString(), maxInterruptions])).map(runFromRow);
  },

  async markLogged(db: Queryable, runIds: readonly string[]): Promise<void> {
    await named(db, 'markLogged', [runIds]);
  },

  async unlogged(db: Queryable, before: Date, limit: number): Promise<RunRecord[]> {
    return (await named<RunRow>(db, 'unlogged', [before.toISOString(), limit])).map(runFromRow);
  },

  /** The transaction's lock on the task-log sweep: false when another replica holds it. */
  async lockTaskLogSweep(db: Queryable): Promise<boolean> {
    const [row] = await named<{ locked: boolean }>(db, 'lockTaskLogSweep', [TASK_LOG_SWEEP_LOCK]);
    return row?.locked === true;
  },

  async getRun(db: Queryable, runId: string): Promise<RunRecord | undefined> {
    return one(await named<RunRow>(db, 'getRun', [runId])) ?? undefined;
  },

  /** Newest first (by queue time). */
  async listRuns(db: Queryable, filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (filter.task !== undefined) where.push(`task = ${param(filter.task)}`);
    if (filter.objectType !== undefined) where.push(`target_object_type = ${param(filter.objectType)}`);
    if (filter.target !== undefined) where.push(`target_name = ${param(filter.target)}`);
    if (filter.status && filter.status.length > 0)
      where.push(`status = ANY(${param(filter.status)}::text[])`);
    if (filter.since !== undefined) where.push(`queued_at >= ${param(filter.since)}`);
    const sql =
      'SELECT * FROM runs' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY queued_at DESC, run_id DESC LIMIT ${param(filter.limit ?? null)} OFFSET ${param(filter.offset ?? 0)}`;
    return (await db.query<RunRow>(sql, params)).rows.map(runFromRow);
  },
};
