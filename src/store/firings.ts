import type Database from 'better-sqlite3';
import { firingFromRow, type FiringRow } from './rows.js';
import type { FiringOutcome, FiringRecord } from './types.js';

/**
 * The firing ledger in SQLite: (schedule, scheduled_for) is the primary key, so a slot is recorded once
 * whatever number of engines, timers or restarts try. Each schedule's latest slot is kept apart, in
 * firing_watermarks, so reading the watermarks costs one row per schedule, not a scan of the ledger, and
 * survives pruning. Slots are ISO instants from toISOString, which sort as text in time order.
 */
export class FiringTable {
  private readonly insertStmt: Database.Statement;
  private readonly raiseWatermarkStmt: Database.Statement;
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
    // MAX: a slot recorded after a later one (a slow engine, a clock stepped back) never moves it back.
    this.raiseWatermarkStmt = db.prepare(
      `INSERT INTO firing_watermarks (schedule, scheduled_for) VALUES (?, ?)
       ON CONFLICT (schedule) DO UPDATE SET scheduled_for = MAX(scheduled_for, excluded.scheduled_for)`,
    );
    this.latestStmt = db.prepare('SELECT schedule, scheduled_for FROM firing_watermarks');
    this.listAllStmt = db.prepare('SELECT * FROM firings ORDER BY scheduled_for, schedule');
    this.listOneStmt = db.prepare('SELECT * FROM firings WHERE schedule = ? ORDER BY scheduled_for');
    this.pruneStmt = db.prepare('DELETE FROM firings WHERE scheduled_for < ?');
  }

  /** True when this call recorded the slot; call inside a write transaction (two statements). */
  record(
    schedule: string,
    scheduledFor: string,
    outcome: FiringOutcome,
    catchUp: boolean,
    recordedAt: string,
  ): boolean {
    const won = this.insertStmt.run(schedule, scheduledFor, outcome, catchUp ? 1 : 0, recordedAt).changes > 0;
    if (won) this.raiseWatermarkStmt.run(schedule, scheduledFor);
    return won;
  }

  latest(): Map<string, Date> {
    const rows = this.latestStmt.all() as Array<{ schedule: string; scheduled_for: string }>;
    return new Map(rows.map((r) => [r.schedule, new Date(r.scheduled_for)]));
  }

  list(schedule?: string): FiringRecord[] {
    const rows = (
      schedule === undefined ? this.listAllStmt.all() : this.listOneStmt.all(schedule)
    ) as FiringRow[];
    return rows.map(firingFromRow);
  }

  /** Slots before `before` go; the watermarks stay, and the engine never plans a slot before its watermark. */
  prune(before: string): number {
    return this.pruneStmt.run(before).changes;
  }
}
