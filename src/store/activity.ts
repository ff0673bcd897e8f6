import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { eventFromRow, runFromRow, runToRow, type EventRow, type RunRow } from './rows.js';
import type { EngineEvent, RunFilter, RunRecord, StoredEvent } from './types.js';

/** Durable events and run records: the engine's side of the SQLite store. */
export class ActivityTables {
  private readonly insertEventStmt: Database.Statement;
  private readonly insertRunStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    // OR IGNORE: a client retrying a delivery with the same event id must not store it twice.
    this.insertEventStmt = db.prepare(
      `INSERT OR IGNORE INTO events (id, type, name, object, fields, at, status, processed_at)
       VALUES (@id, @type, @name, @object, @fields, @at, @status, @processedAt)`,
    );
    this.insertRunStmt = db.prepare(
      `INSERT INTO runs (run_id, task, status, trigger_kind, trigger_name, trigger_event, target_object_type,
         target_name, queued_at, started_at, finished_at, duration_ms, attempts, error, details)
       VALUES (@run_id, @task, @status, @trigger_kind, @trigger_name, @trigger_event, @target_object_type,
         @target_name, @queued_at, @started_at, @finished_at, @duration_ms, @attempts, @error, @details)`,
    );
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
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE status = 'pending' ORDER BY rowid LIMIT ?`)
      .all(limit) as EventRow[];
    return rows.map(eventFromRow);
  }

  getEvent(id: string): StoredEvent | undefined {
    const row = this.db.prepare(`SELECT * FROM events WHERE id = ?`).get(id) as EventRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }

  /** Deletes finished runs and processed events older than `before`; returns how many rows went. */
  prune(before: string): number {
    const runs = this.db
      .prepare(
        `DELETE FROM runs WHERE queued_at < ? AND status IN ('succeeded', 'failed', 'skipped', 'interrupted')`,
      )
      .run(before);
    const events = this.db.prepare(`DELETE FROM events WHERE at < ? AND status = 'processed'`).run(before);
    return runs.changes + events.changes;
  }

  markEventProcessed(id: string, at: string): void {
    const info = this.db
      .prepare(`UPDATE events SET status = 'processed', processed_at = ? WHERE id = ?`)
      .run(at, id);
    if (info.changes === 0) throw new StoreError(`no event with id ${id} in the store`, 'not-found');
  }

  insertRun(run: RunRecord): void {
    this.insertRunStmt.run(runToRow(run));
  }

  updateRun(runId: string, patch: Partial<Omit<RunRecord, 'runId'>>): void {
    const row = this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    if (!row) throw new StoreError(`no run with id ${runId} in the store`, 'not-found');
    const merged = runToRow({ ...runFromRow(row), ...patch, runId });
    this.db
      .prepare(
        `UPDATE runs SET task = @task, status = @status, trigger_kind = @trigger_kind, trigger_name = @trigger_name,
           trigger_event = @trigger_event, target_object_type = @target_object_type, target_name = @target_name,
           queued_at = @queued_at, started_at = @started_at, finished_at = @finished_at,
           duration_ms = @duration_ms, attempts = @attempts, error = @error, details = @details
         WHERE run_id = @run_id`,
      )
      .run(merged);
  }

  getRun(runId: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  /** Newest first (by queue time). */
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
}
