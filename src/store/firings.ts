import type Database from 'better-sqlite3';
import type { FiringOutcome, FiringRecord } from './types.js';

interface FiringRow {
  schedule: string;
  scheduled_for: string;
  outcome: string;
  catch_up: number;
  recorded_at: string;
}

/**
 * The firing ledger in SQLite: (schedule, scheduled_for) is the primary key, so a slot is recorded once
 * whatever number of engines, timers or restarts try. Slots are ISO instants from toISOString, which sort
 * as text in time order.
 */
export class FiringTable {
  private readonly insertStmt: Database.Statement;
  private readonly latestStmt: Database.Statement;
  private readonly listAllStmt: Database.Statement;
  private readonly listOneStmt: Database.Statement;
  private readonly pruneStmt: Database.Statement;

  constructor(db: Database.Database) {
    // DO NOTHING: the loser of a race learns it lost from `changes`, with no error and no second row.
    this.insertStmt = db.prepare(
      `INSERT INTO firings (schedule, scheduled_for, outcome, catch_up, recorded_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (schedule, scheduled_for) DO NOTHING`,
    );
    this.latestStmt = db.prepare(
      'SELECT schedule, MAX(scheduled_for) AS scheduled_for FROM firings GROUP BY schedule',
    );
    this.listAllStmt = db.prepare('SELECT * FROM firings ORDER BY scheduled_for, schedule');
    this.listOneStmt = db.prepare('SELECT * FROM firings WHERE schedule = ? ORDER BY scheduled_for');
    // Each schedule's latest slot survives retention: it is the watermark catch-up starts from.
    this.pruneStmt = db.prepare(
      `DELETE FROM firings WHERE scheduled_for < ? AND scheduled_for <
         (SELECT MAX(f.scheduled_for) FROM firings f WHERE f.schedule = firings.schedule)`,
    );
  }

  /** True when this call recorded the slot. */
  record(
    schedule: string,
    scheduledFor: string,
    outcome: FiringOutcome,
    catchUp: boolean,
    recordedAt: string,
  ): boolean {
    return this.insertStmt.run(schedule, scheduledFor, outcome, catchUp ? 1 : 0, recordedAt).changes > 0;
  }

  latest(): Map<string, Date> {
    const rows = this.latestStmt.all() as Array<{ schedule: string; scheduled_for: string }>;
    return new Map(rows.map((r) => [r.schedule, new Date(r.scheduled_for)]));
  }

  list(schedule?: string): FiringRecord[] {
    const rows = (
      schedule === undefined ? this.listAllStmt.all() : this.listOneStmt.all(schedule)
    ) as FiringRow[];
    return rows.map((r) => ({
      schedule: r.schedule,
      scheduledFor: r.scheduled_for,
      outcome: r.outcome as FiringOutcome,
      catchUp: r.catch_up === 1,
      recordedAt: r.recorded_at,
    }));
  }

  prune(before: string): number {
    return this.pruneStmt.run(before).changes;
  }
}
