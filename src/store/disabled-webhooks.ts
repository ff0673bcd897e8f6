import type Database from 'better-sqlite3';
import type { DisabledWebhook } from './types.js';

/** A `disabled_webhooks` row (either store's): one per webhook, so engines mark and clear them independently. */
export interface DisabledWebhookRow {
  name: string;
  status: number;
  at: string;
  run_id: string;
  spec_hash: string;
}

export function disabledWebhookFromRow(row: DisabledWebhookRow): DisabledWebhook {
  return { status: row.status, at: row.at, runId: row.run_id, specHash: row.spec_hash };
}

/** The rows by webhook name, in name order. */
export const disabledWebhooksByName = (rows: readonly DisabledWebhookRow[]): Map<string, DisabledWebhook> =>
  new Map(rows.map((r) => [r.name, disabledWebhookFromRow(r)]));

/**
 * The webhooks their receivers disabled (410 Gone), in SQLite. Each mark is one statement on its own row:
 * two engines marking or clearing different webhooks at once never undo each other's (a read-modify-write
 * of one shared value could).
 */
export class DisabledWebhookTable {
  private readonly upsertStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(
      `INSERT INTO disabled_webhooks (name, status, at, run_id, spec_hash) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET status = excluded.status, at = excluded.at, run_id = excluded.run_id,
         spec_hash = excluded.spec_hash`,
    );
    this.deleteStmt = db.prepare('DELETE FROM disabled_webhooks WHERE name = ?');
    this.getStmt = db.prepare('SELECT * FROM disabled_webhooks WHERE name = ?');
    this.listStmt = db.prepare('SELECT * FROM disabled_webhooks ORDER BY name');
  }

  set(name: string, entry: DisabledWebhook): void {
    this.upsertStmt.run(name, entry.status, entry.at, entry.runId, entry.specHash);
  }

  /** False when the webhook had no mark. */
  clear(name: string): boolean {
    return this.deleteStmt.run(name).changes > 0;
  }

  get(name: string): DisabledWebhook | undefined {
    const row = this.getStmt.get(name) as DisabledWebhookRow | undefined;
    return row ? disabledWebhookFromRow(row) : undefined;
  }

  list(): Map<string, DisabledWebhook> {
    return disabledWebhooksByName(this.listStmt.all() as DisabledWebhookRow[]);
  }
}
