import type Database from 'better-sqlite3';
import type { SyncAttempt, SyncStatusRecord } from './types.js';

export interface SyncStatusRow {
  attempted_at: string;
  attempted_revision: string | null;
  reason: SyncAttempt['reason'];
  message: string | null;
  problems: string;
  summary: string;
  applied_revision: string | null;
  applied_at: string | null;
}

/** Whether an attempt brought the live state to its revision: only then does the applied revision move. */
export function reachedRevision(attempt: SyncAttempt): boolean {
  return attempt.revision !== null && (attempt.reason === 'applied' || attempt.reason === 'unchanged');
}

/** A `sync_status` row (either store's) as the status it records. */
export function syncStatusFromRow(row: SyncStatusRow): SyncStatusRecord {
  return {
    lastAttempt: {
      at: row.attempted_at,
      revision: row.attempted_revision,
      reason: row.reason,
      message: row.message,
      problems: JSON.parse(row.problems) as SyncAttempt['problems'],
      summary: JSON.parse(row.summary) as SyncAttempt['summary'],
    },
    lastApplied:
      row.applied_revision === null || row.applied_at === null
        ? null
        : { revision: row.applied_revision, at: row.applied_at },
  };
}

/** The one-row `sync_status` table: the last reconcile attempt and the last revision it brought the live state to. */
export class SyncStatusTable {
  private readonly upsertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;

  constructor(db: Database.Database) {
    // The applied revision moves only with an attempt that reached it; a refused one keeps the previous.
    this.upsertStmt = db.prepare(
      `INSERT INTO sync_status (id, attempted_at, attempted_revision, reason, message, problems, summary,
         applied_revision, applied_at)
       VALUES (1, @at, @revision, @reason, @message, @problems, @summary,
         CASE WHEN @reached THEN @revision END, CASE WHEN @reached THEN @at END)
       ON CONFLICT (id) DO UPDATE SET attempted_at = excluded.attempted_at,
         attempted_revision = excluded.attempted_revision, reason = excluded.reason,
         message = excluded.message, problems = excluded.problems, summary = excluded.summary,
         applied_revision = CASE WHEN @reached THEN excluded.attempted_revision ELSE applied_revision END,
         applied_at = CASE WHEN @reached THEN excluded.attempted_at ELSE applied_at END`,
    );
    this.getStmt = db.prepare('SELECT * FROM sync_status WHERE id = 1');
  }

  record(attempt: SyncAttempt): void {
    const reached = reachedRevision(attempt);
    this.upsertStmt.run({
      at: attempt.at,
      revision: attempt.revision,
      reason: attempt.reason,
      message: attempt.message,
      problems: JSON.stringify(attempt.problems),
      summary: JSON.stringify(attempt.summary),
      reached: reached ? 1 : 0,
    });
  }

  get(): SyncStatusRecord | null {
    const row = this.getStmt.get() as SyncStatusRow | undefined;
    return row ? syncStatusFromRow(row) : null;
  }
}
