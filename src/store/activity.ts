import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import {
  eventFromRow,
  runFromRow,
  runPatchColumns,
  runToRow,
  type EventRow,
  type RunPatch,
  type RunRow,
} from './rows.js';
import type { EngineEvent, RunFilter, RunRecord, StoredEvent } from './types.js';

/**
 * Durable events and run records: the engine's side of the SQLite store. Statements are prepared once
 * (preparing costs more than running most of them); `updateRun` keeps one per set of patched columns.
 */
export class ActivityTables {
  private readonly insertEventStmt: Database.Statement;
  private readonly insertRunStmt: Database.Statement;
  private readonly getRunStmt: Database.Statement;
  private readonly runExistsStmt: Database.Statement;
  private readonly getEventStmt: Database.Statement;
  private readonly pendingEventsStmt: Database.Statement;
  private readonly markEventProcessedStmt: Database.Statement;
  private readonly pruneRunsStmt: Database.Statement;
  private readonly pruneEventsStmt: Database.Statement;
  /** By the patched columns, comma-joined: the engine uses two shapes (start, finish). */
  private readonly updateRunStmts = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    // OR IGNORE: a client retrying a delivery with the same event id must not store it twice.
    this.insertEventStmt = db.prepare(
      `INSERT OR IGNORE INTO events (id, type, name, object, fields, at, status, processed_at)
       VALUES (@id, @type, @name, @object, @fields, @at, @status, @processedAt)`,
    );
    this.insertRunStmt = db.prepare(
      `INSERT INTO runs (run_id, task, status, trigger_kind, trigger_name, trigger_event, target_object_type,
         target_name, queued_at, started_at, finished_at, duration_ms, attempts, error, details,
         trigger_scheduled_for, trigger_catch_up)
       VALUES (@run_id, @task, @status, @trigger_kind, @trigger_name, @trigger_event, @target_object_type,
         @target_name, @queued_at, @started_at, @finished_at, @duration_ms, @attempts, @error, @details,
         @trigger_scheduled_for, @trigger_catch_up)`,
    );
    this.getRunStmt = db.prepare('SELECT * FROM runs WHERE run_id = ?');
    this.runExistsStmt = db.prepare('SELECT 1 FROM runs WHERE run_id = ?').pluck();
    this.getEventStmt = db.prepare('SELECT * FROM events WHERE id = ?');
    this.pendingEventsStmt = db.prepare(
      `SELECT * FROM events WHERE status = 'pending' ORDER BY rowid LIMIT ?`,
    );
    this.markEventProcessedStmt = db.prepare(
      `UPDATE events SET status = 'processed', processed_at = ? WHERE id = ?`,
    );
    this.pruneRunsStmt = db.prepare(
      `DELETE FROM runs WHERE queued_at < ? AND status IN ('succeeded', 'failed', 'skipped', 'interrupted')`,
    );
    this.pruneEventsStmt = db.prepare(`DELETE FROM events WHERE at < ? AND status = 'processed'`);
  }

  addEvent(event: EngineEvent): void {
    this.insertEventStmt.run({
      ...event,
      fields: JSON.stringify(event.fields),
      status: 'pending',
      processedAt: null,
    });
  }

  /** Events that fire nothing are stored already processed: one write instead of two. */
  addProcessedEvent(event: EngineEvent, at: string): void {
    this.insertEventStmt.run({
      ...event,
      fields: JSON.stringify(event.fields),
      status: 'processed',
      processedAt: at,
    });
  }

  /** Oldest first, in the order they were stored. */
  pendingEvents(limit = 100): StoredEvent[] {
    const rows = this.pendingEventsStmt.all(limit) as EventRow[];
    return rows.map(eventFromRow);
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

  insertRun(run: RunRecord): void {
    this.insertRunStmt.run(runToRow(run));
  }

  /** Writes only the patched columns, in one statement; a run that does not exist is a not-found StoreError. */
  updateRun(runId: string, patch: RunPatch): void {
    const columns = runPatchColumns(patch);
    const found =
      columns.length === 0
        ? this.runExistsStmt.get(runId) !== undefined
        : this.updateRunStmt(columns.map(([column]) => column)).run(
            ...columns.map(([, value]) => value),
            runId,
          ).changes > 0;
    if (!found) throw new StoreError(`no run with id ${runId} in the store`, 'not-found');
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

  private updateRunStmt(columns: ReadonlyArray<keyof RunRow>): Database.Statement {
    const key = columns.join(',');
    let stmt = this.updateRunStmts.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`UPDATE runs SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE run_id = ?`);
      this.updateRunStmts.set(key, stmt);
    }
    return stmt;
  }
}
