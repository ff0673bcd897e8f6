import type Database from 'better-sqlite3';
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
import { claimedRecord, delayedRecord, derivable, finishedRecord } from './transitions.js';
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

/** Milliseconds from the SQL expression `from` to `to` (ISO 8601 text), as an integer. */
const msBetween = (from: string, to: string) =>
  `CAST(round((julianday(${to}) - julianday(${from})) * 86400000) AS INTEGER)`;

/** Why recovery interrupted a run, built from the row itself. */
const INTERRUPTED_ERROR = `'interrupted: engine ' || COALESCE(owner, '(unknown)') || ' stopped while this run was in flight (its lease expired)'`;
const CUT_OFF = 'interruptions + 1 > @max';

/**
 * Durable events and run records: the engine's side of the SQLite store. Statements are prepared once
 * (preparing costs more than running most of them). Each run transition is one UPDATE … WHERE on the state it
 * expects, RETURNING the changed row (or, given the caller's record, only its change count): nothing changed
 * means another caller won.
 */
export class ActivityTables {
  private readonly insertEventStmt: Database.Statement;
  private readonly insertRunStmt: Database.Statement;
  private readonly getRunStmt: Database.Statement;
  private readonly getEventStmt: Database.Statement;
  private readonly eventsSinceStmt: Database.Statement;
  private readonly pendingEventsStmt: Database.Statement;
  private readonly markEventProcessedStmt: Database.Statement;
  private readonly pruneRunsStmt: Database.Statement;
  private readonly pruneEventsStmt: Database.Statement;
  private readonly claimStmt: Database.Statement;
  private readonly claimQuietStmt: Database.Statement;
  private readonly renewStmt: Database.Statement;
  private readonly delayStmt: Database.Statement;
  private readonly delayQuietStmt: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private readonly finishQuietStmt: Database.Statement;
  private readonly cancelStmt: Database.Statement;
  private readonly interruptStmt: Database.Statement;
  private readonly markLoggedStmt: Database.Statement;
  private readonly unloggedStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    // A client retrying a delivery with the same event id must not store it twice. ON CONFLICT (id), not
    // OR IGNORE: that would also drop, silently, a row breaking NOT NULL or CHECK.
    this.insertEventStmt = db.prepare(
      `INSERT INTO events (id, type, name, object, fields, at, status, processed_at, origin)
       VALUES (@id, @type, @name, @object, @fields, @at, @status, @processedAt, @origin)
       ON CONFLICT (id) DO NOTHING`,
    );
    // The same event or firing processed twice finds its run there; the change count says which. Only the
    // duplicate id is ignored: any other violation fails the write.
    this.insertRunStmt = db.prepare(
      `INSERT INTO runs (run_id, task, status, trigger_kind, trigger_name, trigger_event,
         target_object_type, target_name, queued_at, started_at, finished_at, duration_ms, attempts, error,
         details, trigger_scheduled_for, trigger_catch_up, trigger_keep, attempt_started_at, next_attempt_at,
         owner, lease_until, interruptions, attempt_log, delivery)
       VALUES (@run_id, @task, @status, @trigger_kind, @trigger_name, @trigger_event, @target_object_type,
         @target_name, @queued_at, @started_at, @finished_at, @duration_ms, @attempts, @error, @details,
         @trigger_scheduled_for, @trigger_catch_up, @trigger_keep, @attempt_started_at, @next_attempt_at,
         @owner, @lease_until, @interruptions, @attempt_log, @delivery)
       ON CONFLICT (run_id) DO NOTHING`,
    );
    this.getRunStmt = db.prepare('SELECT * FROM runs WHERE run_id = ?');
    this.getEventStmt = db.prepare('SELECT * FROM events WHERE id = ?');
    this.eventsSinceStmt = db.prepare('SELECT * FROM events WHERE at >= ? ORDER BY at, rowid LIMIT ?');
    this.pendingEventsStmt = db.prepare(
      `SELECT * FROM events WHERE status = 'pending' ORDER BY rowid LIMIT ?`,
    );
    this.markEventProcessedStmt = db.prepare(
      `UPDATE events SET status = 'processed', processed_at = ? WHERE id = ?`,
    );
    this.pruneRunsStmt = db.prepare(
      `DELETE FROM runs WHERE queued_at < ? AND status IN (${FINAL_STATUS_SQL})`,
    );
    // Only a final run is marked: an interrupted attempt's line is not its end. `+status` keeps SQLite off the
    // status index, which would walk every ended run; the run ids (and the unlogged index below) are few.
    this.markLoggedStmt = db.prepare(
      `UPDATE runs SET logged = 1
       WHERE run_id IN (SELECT value FROM json_each(?)) AND +status IN (${FINAL_STATUS_SQL})`,
    );
    this.unloggedStmt = db.prepare(
      `SELECT * FROM runs WHERE logged IS NULL AND finished_at < ? AND +status IN (${FINAL_STATUS_SQL})
       ORDER BY finished_at LIMIT ?`,
    );
    this.pruneEventsStmt = db.prepare(`DELETE FROM events WHERE at < ? AND status = 'processed'`);
    // A delayed run is taken only once due, so no engine cuts its backoff short.
    const claim = `UPDATE runs SET status = 'running', owner = @owner, lease_until = @leaseUntil,
         attempts = attempts + 1, started_at = COALESCE(started_at, @at), attempt_started_at = @at,
         next_attempt_at = NULL, delivery = COALESCE(delivery, @delivery)
       WHERE run_id = @runId AND status = @from AND (@from = 'queued' OR next_attempt_at <= @at)`;
    // Each transition twice: RETURNING the changed row, and without, for a caller whose record it derives
    // the result from (src/store/transitions.ts): RETURNING * doubled the cost of the statement.
    this.claimStmt = db.prepare(`${claim} RETURNING *`);
    this.claimQuietStmt = db.prepare(claim);
    this.renewStmt = db.prepare(
      `UPDATE runs SET lease_until = @until
       WHERE owner = @owner AND status = 'running' AND run_id IN (SELECT value FROM json_each(@ids))
       RETURNING run_id`,
    );
    const delay = `UPDATE runs SET status = 'delayed', owner = NULL, lease_until = NULL, next_attempt_at = @nextAttemptAt,
         interruptions = interruptions + @interrupted, attempt_log = json_insert(attempt_log, '$[#]', json(@attempt)),
         error = @error, details = @details
       WHERE run_id = @runId AND status = 'running' AND owner = @owner AND attempts = @attemptNo`;
    this.delayStmt = db.prepare(`${delay} RETURNING *`);
    this.delayQuietStmt = db.prepare(delay);
    const finish = `UPDATE runs SET status = @status, lease_until = NULL, finished_at = @at, duration_ms = @durationMs,
         attempts = attempts - @idle,
         interruptions = interruptions + @interrupted, attempt_log = json_insert(attempt_log, '$[#]', json(@attempt)),
         error = @error, details = @details
       WHERE run_id = @runId AND status = 'running' AND owner = @owner AND attempts = @attemptNo`;
    this.finishStmt = db.prepare(`${finish} RETURNING *`);
    this.finishQuietStmt = db.prepare(finish);
    this.cancelStmt = db.prepare(
      `UPDATE runs SET status = @status, started_at = COALESCE(started_at, @at), finished_at = @at,
         duration_ms = ${msBetween('COALESCE(started_at, @at)', '@at')}, next_attempt_at = NULL, error = @error
       WHERE run_id = @runId AND status = @from
       RETURNING *`,
    );
    const attemptStart = 'COALESCE(attempt_started_at, started_at, @now)';
    // Rows from before leases (no lease_until) count as expired: their engine is gone.
    this.interruptStmt = db.prepare(
      `UPDATE runs SET
         interruptions = interruptions + 1,
         status = CASE WHEN ${CUT_OFF} THEN 'interrupted' ELSE 'delayed' END,
         next_attempt_at = CASE WHEN ${CUT_OFF} THEN NULL ELSE @now END,
         finished_at = CASE WHEN ${CUT_OFF} THEN @now ELSE NULL END,
         duration_ms = CASE WHEN ${CUT_OFF} THEN ${msBetween('COALESCE(started_at, @now)', '@now')} ELSE NULL END,
         owner = CASE WHEN ${CUT_OFF} THEN owner ELSE NULL END,
         lease_until = NULL,
         error = ${INTERRUPTED_ERROR},
         attempt_log = json_insert(attempt_log, '$[#]', json_object('attempt', attempts, 'at', ${attemptStart},
           'durationMs', ${msBetween(attemptStart, '@now')}, 'outcome', 'interrupted', 'error', ${INTERRUPTED_ERROR}))
       WHERE status = 'running' AND (lease_until IS NULL OR lease_until < @now)
       RETURNING *`,
    );
  }

  /**
   * Stored pending; with `processedAt`, already processed (an event that fires nothing: one write instead of
   * two).
   */
  addEvent(event: EngineEvent, processedAt: string | null = null): void {
    this.insertEventStmt.run(eventParams(event, processedAt === null ? 'pending' : 'processed', processedAt));
  }

  /** Oldest first, in the order they were stored. */
  pendingEvents(limit = 100): StoredEvent[] {
    const rows = this.pendingEventsStmt.all(limit) as EventRow[];
    return rows.map(eventFromRow);
  }

  /** Events recorded at or after `since` (processed or not), oldest first, at most `limit`. */
  eventsSince(since: string, limit: number): StoredEvent[] {
    return (this.eventsSinceStmt.all(since, limit) as EventRow[]).map(eventFromRow);
  }

  getEvent(id: string): StoredEvent | undefined {
    const row = this.getEventStmt.get(id) as EventRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }

  /** Deletes finished runs and processed events older than `before`; returns how many rows went. */
  prune(before: string): number {
    const runs = this.pruneRunsStmt.run(before);
    const events = this.pruneEventsStmt.run(before);
    return runs.changes + events.changes;
  }

  markEventProcessed(id: string, at: string): void {
    const info = this.markEventProcessedStmt.run(at, id);
    if (info.changes === 0) throw new StoreError(`no event with id ${id} in the store`, 'not-found');
  }

  /** False when a run with this id was there already. */
  insertRun(run: RunRecord): boolean {
    return this.insertRunStmt.run(runToRow(run)).changes > 0;
  }

  /** With `seen` (the run's record as inserted or read) a claim from `queued` derives its result from it. */
  claimRun(runId: string, from: WaitingRunStatus, claim: RunClaim, seen?: RunRecord): RunRecord | null {
    const params = {
      runId,
      from,
      owner: claim.owner,
      leaseUntil: claim.leaseUntil.toISOString(),
      at: claim.at.toISOString(),
      delivery: jsonColumn(claim.delivery),
    };
    if (from === 'queued' && derivable(seen, runId)) {
      return this.claimQuietStmt.run(params).changes > 0 ? claimedRecord(seen, claim, params.delivery) : null;
    }
    return this.changed(this.claimStmt.get(params));
  }

  renewLeases(owner: string, runIds: readonly string[], until: Date): string[] {
    if (runIds.length === 0) return [];
    const rows = this.renewStmt.all({
      owner,
      ids: JSON.stringify(runIds),
      until: until.toISOString(),
    }) as Array<{
      run_id: string;
    }>;
    return rows.map((r) => r.run_id);
  }

  /** With `seen` (the run's record as its claim returned it) the result is derived from it. */
  delayRun(runId: string, owner: string, retry: RunRetry, seen?: RunRecord): RunRecord | null {
    const params = {
      runId,
      owner,
      nextAttemptAt: retry.nextAttemptAt.toISOString(),
      interrupted: retry.attempt.outcome === 'interrupted' ? 1 : 0,
      attempt: JSON.stringify(retry.attempt),
      attemptNo: retry.attempt.attempt,
      error: retry.error,
      details: jsonColumn(retry.details),
    };
    if (derivable(seen, runId)) {
      return this.delayQuietStmt.run(params).changes > 0
        ? delayedRecord(seen, retry, params.attempt, params.details)
        : null;
    }
    return this.changed(this.delayStmt.get(params));
  }

  /** With `seen` (the run's record as its claim returned it) the result is derived from it. */
  finishRun(runId: string, owner: string, outcome: RunOutcome, seen?: RunRecord): RunRecord | null {
    const params = {
      runId,
      owner,
      status: outcome.status,
      idle: outcome.acted === false ? 1 : 0,
      at: outcome.at.toISOString(),
      durationMs: outcome.durationMs,
      interrupted: outcome.attempt.outcome === 'interrupted' ? 1 : 0,
      attempt: JSON.stringify(outcome.attempt),
      attemptNo: outcome.attempt.attempt,
      error: outcome.error,
      details: jsonColumn(outcome.details),
    };
    let done: RunRecord | null;
    if (derivable(seen, runId)) {
      done =
        this.finishQuietStmt.run(params).changes > 0
          ? finishedRecord(seen, outcome, params.attempt, params.details)
          : null;
    } else done = this.changed(this.finishStmt.get(params));
    if (done) {
      for (const { event, processed } of outcome.events ?? [])
        this.addEvent(event, processed ? params.at : null);
    }
    return done;
  }

  cancelRun(runId: string, from: WaitingRunStatus, end: RunCancel): RunRecord | null {
    return this.changed(
      this.cancelStmt.get({ runId, from, status: end.status, at: end.at.toISOString(), error: end.error }),
    );
  }

  interruptExpired(now: Date, maxInterruptions: number): RunRecord[] {
    const rows = this.interruptStmt.all({ now: now.toISOString(), max: maxInterruptions }) as RunRow[];
    return rows.map(runFromRow);
  }

  /** Marks the task-log lines of these runs written (those in a final state). */
  markLogged(runIds: readonly string[]): void {
    this.markLoggedStmt.run(JSON.stringify(runIds));
  }

  /** Runs that ended before `before` with no task-log line marked written, the oldest first. */
  unlogged(before: Date, limit: number): RunRecord[] {
    return (this.unloggedStmt.all(before.toISOString(), limit) as RunRow[]).map(runFromRow);
  }

  getRun(runId: string): RunRecord | undefined {
    const row = this.getRunStmt.get(runId) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  /** Newest first (by queue time). Prepared per call: the filters make many shapes and it is not a hot path. */
  listRuns(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.task !== undefined) {
      where.push('task = ?');
      params.push(filter.task);
    }
    if (filter.objectType !== undefined) {
      where.push('target_object_type = ?');
      params.push(filter.objectType);
    }
    if (filter.target !== undefined) {
      where.push('target_name = ?');
      params.push(filter.target);
    }
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    if (filter.since !== undefined) {
      where.push('queued_at >= ?');
      params.push(filter.since);
    }
    const sql =
      'SELECT * FROM runs' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY queued_at DESC, run_id DESC LIMIT ? OFFSET ?';
    params.push(filter.limit ?? -1, filter.offset ?? 0);
    return (this.db.prepare(sql).all(...params) as RunRow[]).map(runFromRow);
  }

  private changed(row: unknown): RunRecord | null {
    return row === undefined ? null : runFromRow(row as RunRow);
  }
}

function eventParams(event: EngineEvent, status: StoredEvent['status'], processedAt: string | null) {
  return {
    id: event.id,
    type: event.type,
    name: event.name,
    object: event.object,
    fields: JSON.stringify(event.fields),
    at: event.at,
    status,
    processedAt,
    origin: event.origin ?? 'external',
  };
}
