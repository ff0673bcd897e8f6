import pg from 'pg';
import type { Kind } from '../manifest/types.js';
import { redactCredentials } from '../text/redact.js';
import { decodeAuditEntries, encodeAuditEntries } from './audit.js';
import { StoreError } from './errors.js';
import { reachedRevision, syncStatusFromRow, type SyncStatusRow } from './sync-status.js';
import { migratePostgres } from './postgres-migrations.js';
import { PostgresReplicas } from './postgres-replicas.js';
import { disabledWebhooksByName, type DisabledWebhookRow } from './disabled-webhooks.js';
import { pgFirings } from './postgres-firings.js';
import { pgActivity, type Queryable } from './postgres-runs.js';
import {
  objectFromRow,
  SPEC_COLUMNS,
  specFromRow,
  SUMMARY_COLUMNS,
  summaryFromRow,
  type ObjectRow,
  type SpecRow,
  type SummaryRow,
} from './rows.js';
import type {
  AppliedRevision,
  ApplyWritesOptions,
  DisabledWebhook,
  EngineEvent,
  FiringOutcome,
  FiringRecord,
  InsertRunsOptions,
  LeaderFence,
  LiveObject,
  LiveObjectSpec,
  LiveObjectSummary,
  ObjectContent,
  ObjectWrite,
  RunCancel,
  RunClaim,
  RunFilter,
  RunOutcome,
  RunRecord,
  RunRetry,
  Store,
  StoredEvent,
  SyncAttempt,
  SyncStatusRecord,
  WaitingRunStatus,
  PendingAudit,
} from './types.js';

export interface OpenPostgresOptions {
  /** Connections in the pool (default 10). */
  maxConnections?: number;
}

/** The channel every object write notifies at commit, so replicas reload at once instead of polling. */
export const CHANGES_CHANNEL = 'taskops_changes';

// BIGINT columns (generation, durations) as numbers: they stay far below 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
};

/** `postgres://host:port/db` without user, password or query: how the store names itself in messages. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the PostgreSQL store (its URL could not be parsed)';
  }
}

/**
 * The shared live state in PostgreSQL: several `serve` replicas on one database. Every run transition is one
 * compare-and-set statement (postgres-runs.ts); writes of several statements are one transaction on one
 * pooled connection. Object writes notify CHANGES_CHANNEL at commit. `replicas` holds the leader lease,
 * the heartbeats and the change feed.
 */
export class PostgresStore implements Store {
  readonly replicas: PostgresReplicas;

  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
    url: string,
  ) {
    this.replicas = new PostgresReplicas(pool, url, where, CHANGES_CHANNEL);
  }

  static async open(url: string, opts: OpenPostgresOptions = {}): Promise<PostgresStore> {
    const where = describePostgresUrl(url);
    const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10, types });
    // An idle connection that breaks (server restart) must not crash the process: the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, where);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw translate(err, where, 'open the store');
    }
    return new PostgresStore(pool, where, url);
  }

  async listObjects(kind?: Kind): Promise<LiveObject[]> {
    const { rows } = kind
      ? await this.read('list objects', 'SELECT * FROM objects WHERE kind = $1 ORDER BY kind, name', [kind])
      : await this.read('list objects', 'SELECT * FROM objects ORDER BY kind, name');
    return (rows as ObjectRow[]).map(objectFromRow);
  }

  async listObjectSummaries(): Promise<LiveObjectSummary[]> {
    const { rows } = await this.read(
      'list object summaries',
      `SELECT ${SUMMARY_COLUMNS} FROM objects ORDER BY kind, name`,
    );
    return (rows as SummaryRow[]).map(summaryFromRow);
  }

  // Over the rows of one query: the pg client holds them all anyway; the caller keeps none of its own.
  async visitObjectSummaries(visit: (o: LiveObjectSummary) => boolean): Promise<boolean> {
    const { rows } = await this.read(
      'list object summaries',
      `SELECT ${SUMMARY_COLUMNS} FROM objects ORDER BY kind, name`,
    );
    for (const row of rows as SummaryRow[]) if (!visit(summaryFromRow(row))) return false;
    return true;
  }

  async listObjectSpecs(): Promise<LiveObjectSpec[]> {
    const { rows } = await this.read(
      'list object specs',
      `SELECT ${SPEC_COLUMNS} FROM objects ORDER BY kind, name`,
    );
    return (rows as SpecRow[]).map(specFromRow);
  }

  async getObject<K extends Kind>(kind: K, name: string): Promise<LiveObject<K> | undefined> {
    const { rows } = await this.read(
      `read ${kind}/${name}`,
      'SELECT * FROM objects WHERE kind = $1 AND name = $2',
      [kind, name],
    );
    return rows[0] ? (objectFromRow(rows[0] as ObjectRow) as LiveObject<K>) : undefined;
  }

  async applyWrites(
    writes: ObjectWrite[],
    revision: string,
    at: Date,
    opts: ApplyWritesOptions = {},
  ): Promise<void> {
    const now = at.toISOString();
    await this.transaction('apply the plan', async (db) => {
      if (opts.fence) await this.replicas.checkFence(db, opts.fence);
      // FOR UPDATE: two appliers serialize here, and the second sees the first's generation.
      const { rows } = await db.query<{ generation: number }>(
        'SELECT generation FROM state WHERE id = 1 FOR UPDATE',
      );
      const current = rows[0]!.generation;
      if (opts.expectGeneration !== undefined && current !== opts.expectGeneration) {
        throw new StoreError(
          `the live state in ${this.where} changed while the plan was being made ` +
            `(generation ${opts.expectGeneration} → ${current}); nothing was applied: run reconcile again`,
          'stale-plan',
        );
      }
      for (const w of writes) {
        if (w.action === 'delete') {
          await db.query('DELETE FROM objects WHERE kind = $1 AND name = $2', [w.kind, w.name]);
          continue;
        }
        await db.query(
          `INSERT INTO objects (kind, name, metadata, spec, hash, applied_hash, managed_by, revision, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5, 'taskops', $6, $7)
           ON CONFLICT (kind, name) DO UPDATE SET metadata = excluded.metadata, spec = excluded.spec,
             hash = excluded.hash, applied_hash = excluded.hash, managed_by = 'taskops',
             revision = excluded.revision, updated_at = excluded.updated_at`,
          [
            w.object.kind,
            w.object.name,
            JSON.stringify(w.object.metadata),
            'specJson' in w ? w.specJson : JSON.stringify(w.object.spec),
            w.object.hash,
            revision,
            now,
          ],
        );
      }
      const bump = writes.length > 0 ? 1 : 0;
      await db.query(
        'UPDATE state SET revision = $1, applied_at = $2, generation = generation + $3 WHERE id = 1',
        [revision, now, bump],
      );
      if (bump) await this.notifyChange(db, current + 1);
      if (opts.audit) await keepAudit(db, opts.audit);
    });
  }

  async takePendingAudits(write: (audits: PendingAudit[]) => readonly string[]): Promise<number> {
    // Nearly always none: a read first, so an idle replica's sweep opens no transaction for it.
    const { rows: any } = await this.read(
      'look for pending audit lines',
      'SELECT 1 FROM audit_pending LIMIT 1',
    );
    if (any.length === 0) return 0;
    return this.transaction('append the audit lines a stop left', async (client) => {
      // One replica at a time: the others find the lock taken and leave the lines to that one.
      const { rows: lock } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [AUDIT_RECOVERY_LOCK],
      );
      if (!lock[0]?.locked) return 0;
      const { rows } = await client.query<{ id: string; entries: string }>(
        'SELECT id, entries FROM audit_pending ORDER BY id FOR UPDATE',
      );
      const ids = write(rows.map((r) => ({ id: r.id, entries: decodeAuditEntries(r.entries) })));
      if (ids.length > 0) await client.query('DELETE FROM audit_pending WHERE id = ANY($1)', [ids]);
      return ids.length;
    });
  }

  async auditWritten(id: string): Promise<void> {
    await this.transaction('mark audit lines written', async (db) => {
      await db.query('DELETE FROM audit_pending WHERE id = $1', [id]);
    });
  }

  async putObjectByHand(object: ObjectContent, at: Date): Promise<void> {
    // On an existing object only the content changes: a taskops object stays taskops-managed, and its
    // applied_hash no longer matches, which is how drift shows.
    await this.transaction('write an object by hand', async (db) => {
      await db.query(
        `INSERT INTO objects (kind, name, metadata, spec, hash, applied_hash, managed_by, revision, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, 'api', NULL, $6)
         ON CONFLICT (kind, name) DO UPDATE SET metadata = excluded.metadata, spec = excluded.spec,
           hash = excluded.hash, updated_at = excluded.updated_at`,
        [
          object.kind,
          object.name,
          JSON.stringify(object.metadata),
          JSON.stringify(object.spec),
          object.hash,
          at.toISOString(),
        ],
      );
      await this.bumpGeneration(db);
    });
  }

  async retireTask(name: string, at: Date, audit?: PendingAudit): Promise<void> {
    await this.transaction(`retire Task/${name}`, async (db) => {
      const result = await db.query(`UPDATE objects SET retired_at = $1 WHERE kind = 'Task' AND name = $2`, [
        at.toISOString(),
        name,
      ]);
      if (result.rowCount === 0)
        throw new StoreError(`cannot retire Task/${name}: no such task in ${this.where}`, 'not-found');
      await this.bumpGeneration(db);
      if (audit) await keepAudit(db, audit);
    });
  }

  async getAppliedRevision(): Promise<AppliedRevision | null> {
    const { rows } = await this.read(
      'read the applied revision',
      'SELECT revision, applied_at FROM state WHERE id = 1',
    );
    const row = rows[0] as { revision: string | null; applied_at: string | null };
    return row.revision === null || row.applied_at === null
      ? null
      : { revision: row.revision, appliedAt: row.applied_at };
  }

  async generation(): Promise<number> {
    const { rows } = await this.read('read the generation', 'SELECT generation FROM state WHERE id = 1');
    return (rows[0] as { generation: number }).generation;
  }

  async recordSyncAttempt(attempt: SyncAttempt, fence?: LeaderFence): Promise<void> {
    const reached = reachedRevision(attempt);
    await this.transaction('record the reconcile attempt', async (db) => {
      if (fence) await this.replicas.checkFence(db, fence);
      // The applied revision moves only with an attempt that reached it; a refused one keeps the previous.
      await db.query(
        `INSERT INTO sync_status (id, attempted_at, attempted_revision, reason, message, problems, summary,
           applied_revision, applied_at)
         VALUES (1, $1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $2 END, CASE WHEN $7 THEN $1 END)
         ON CONFLICT (id) DO UPDATE SET attempted_at = excluded.attempted_at,
           attempted_revision = excluded.attempted_revision, reason = excluded.reason,
           message = excluded.message, problems = excluded.problems, summary = excluded.summary,
           applied_revision = CASE WHEN $7 THEN excluded.attempted_revision ELSE sync_status.applied_revision END,
           applied_at = CASE WHEN $7 THEN excluded.attempted_at ELSE sync_status.applied_at END`,
        [
          attempt.at,
          attempt.revision,
          attempt.reason,
          attempt.message,
          JSON.stringify(attempt.problems),
          JSON.stringify(attempt.summary),
          reached,
        ],
      );
    });
  }

  async getSyncStatus(): Promise<SyncStatusRecord | null> {
    const { rows } = await this.read('read the sync status', 'SELECT * FROM sync_status WHERE id = 1');
    const row = rows[0] as SyncStatusRow | undefined;
    return row ? syncStatusFromRow(row) : null;
  }

  async getMeta(key: string): Promise<string | undefined> {
    const { rows } = await this.read(`read meta ${key}`, 'SELECT value FROM meta WHERE key = $1', [key]);
    return (rows[0] as { value: string } | undefined)?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.run(`set meta ${key}`, (db) =>
      db.query(
        'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, value],
      ),
    );
  }

  // One statement per mark, on its own row: replicas marking different webhooks never undo each other's.
  async disableWebhook(name: string, entry: DisabledWebhook): Promise<void> {
    await this.read(
      `record that Webhook/${name} is disabled`,
      `INSERT INTO disabled_webhooks (name, status, at, run_id, spec_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET status = excluded.status, at = excluded.at, run_id = excluded.run_id,
         spec_hash = excluded.spec_hash`,
      [name, entry.status, entry.at, entry.runId, entry.specHash],
    );
  }

  async enableWebhook(name: string): Promise<boolean> {
    const result = await this.read(
      `enable Webhook/${name}`,
      'DELETE FROM disabled_webhooks WHERE name = $1',
      [name],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async getDisabledWebhook(name: string): Promise<DisabledWebhook | undefined> {
    const { rows } = await this.read(
      `read whether Webhook/${name} is disabled`,
      'SELECT * FROM disabled_webhooks WHERE name = $1',
      [name],
    );
    return disabledWebhooksByName(rows as DisabledWebhookRow[]).get(name);
  }

  async listDisabledWebhooks(): Promise<Map<string, DisabledWebhook>> {
    const { rows } = await this.read(
      'list disabled webhooks',
      'SELECT * FROM disabled_webhooks ORDER BY name',
    );
    return disabledWebhooksByName(rows as DisabledWebhookRow[]);
  }

  async addEvent(event: EngineEvent): Promise<void> {
    await this.run('store an event', (db) => pgActivity.addEvent(db, event));
  }

  async addEvents(events: readonly EngineEvent[], processed: ReadonlySet<string> = new Set()): Promise<void> {
    const at = new Date().toISOString();
    await this.run(`store ${events.length} events`, (db) => pgActivity.addEvents(db, events, processed, at));
  }

  async pendingEvents(limit?: number): Promise<StoredEvent[]> {
    return this.run('read pending events', (db) => pgActivity.pendingEvents(db, limit));
  }

  async eventsSince(since: Date, limit = 100_000): Promise<StoredEvent[]> {
    return this.run('read recent events', (db) => pgActivity.eventsSince(db, since.toISOString(), limit));
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    return this.run(`read event ${id}`, (db) => pgActivity.getEvent(db, id));
  }

  async markEventProcessed(id: string): Promise<void> {
    await this.run(`mark event ${id} processed`, (db) =>
      pgActivity.markEventProcessed(db, id, new Date().toISOString()),
    );
  }

  async insertRun(run: RunRecord): Promise<boolean> {
    return this.run(`store run ${run.runId}`, (db) => pgActivity.insertRun(db, run));
  }

  async insertRuns(runs: readonly RunRecord[], opts: InsertRunsOptions = {}): Promise<boolean[]> {
    const { firing } = opts;
    if (firing) {
      const slot = `Schedule/${firing.schedule} at ${firing.scheduledFor.toISOString()}`;
      return this.run(`store the firing of ${slot} with its runs`, (db) =>
        pgFirings.recordWithRuns(db, firing, runs),
      );
    }
    const what = opts.processedEvent
      ? `store the runs of event ${opts.processedEvent}`
      : `store runs ${runs.map((r) => r.runId).join(', ')}`;
    return this.run(what, (db) =>
      pgActivity.insertRuns(db, runs, opts.processedEvent, new Date().toISOString()),
    );
  }

  // No `seen` here: the round trip costs the time, not the row it brings back.
  async claimRun(runId: string, from: WaitingRunStatus, claim: RunClaim): Promise<RunRecord | null> {
    return this.run(`claim run ${runId}`, (db) => pgActivity.claimRun(db, runId, from, claim));
  }

  async renewLeases(owner: string, runIds: readonly string[], until: Date): Promise<string[]> {
    return this.run(`renew the leases of ${owner}`, (db) => pgActivity.renewLeases(db, owner, runIds, until));
  }

  async delayRun(runId: string, owner: string, retry: RunRetry): Promise<RunRecord | null> {
    return this.run(`delay run ${runId}`, (db) => pgActivity.delayRun(db, runId, owner, retry));
  }

  async finishRun(runId: string, owner: string, outcome: RunOutcome): Promise<RunRecord | null> {
    const done = await this.run(`record the end of run ${runId}`, (db) =>
      pgActivity.finishRun(db, runId, owner, outcome),
    );
    if (done) outcome.onRecorded?.(done);
    return done;
  }

  async cancelRun(runId: string, from: WaitingRunStatus, end: RunCancel): Promise<RunRecord | null> {
    return this.run(`end run ${runId}`, (db) => pgActivity.cancelRun(db, runId, from, end));
  }

  async interruptExpired(now: Date, maxInterruptions: number): Promise<RunRecord[]> {
    return this.run('interrupt runs whose lease expired', (db) =>
      pgActivity.interruptExpired(db, now, maxInterruptions),
    );
  }

  async markLogged(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.run(`mark the task-log lines of ${runIds.length} runs written`, (db) =>
      pgActivity.markLogged(db, runIds),
    );
  }

  async logUnlogged(before: Date, limit: number, write: (runs: RunRecord[]) => void): Promise<number> {
    return this.transaction('write the task-log lines runs ended without', async (client) => {
      // One replica sweeps at a time; the others find the lock taken and leave it to that one.
      if (!(await pgActivity.lockTaskLogSweep(client))) return 0;
      const runs = await pgActivity.unlogged(client, before, limit);
      if (runs.length === 0) return 0;
      write(runs);
      await pgActivity.markLogged(
        client,
        runs.map((run) => run.runId),
      );
      return runs.length;
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.run(`read run ${runId}`, (db) => pgActivity.getRun(db, runId));
  }

  async listRuns(filter?: RunFilter): Promise<RunRecord[]> {
    return this.run('list runs', (db) => pgActivity.listRuns(db, filter));
  }

  async recordFiring(
    schedule: string,
    scheduledFor: Date,
    firing: { outcome: FiringOutcome; catchUp: boolean; recordedAt: Date },
  ): Promise<boolean> {
    return this.run(`record the firing of Schedule/${schedule} at ${scheduledFor.toISOString()}`, (db) =>
      pgFirings.record(db, { schedule, scheduledFor, ...firing }),
    );
  }

  async lastFirings(): Promise<Map<string, Date>> {
    return this.run('read the firing watermarks', (db) => pgFirings.latest(db));
  }

  async listFirings(schedule?: string): Promise<FiringRecord[]> {
    return this.run('list firings', (db) => pgFirings.list(db, schedule));
  }

  async pruneActivity(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    return this.transaction('prune old runs, events and firings', async (db) => {
      const activity = await pgActivity.prune(db, cutoff);
      const firings = await db.query('DELETE FROM firings WHERE scheduled_for < $1', [cutoff]);
      return activity + (firings.rowCount ?? 0);
    });
  }

  async close(): Promise<void> {
    await this.replicas.close();
    await this.pool.end().catch(() => undefined);
  }

  private async bumpGeneration(db: Queryable): Promise<void> {
    const { rows } = await db.query<{ generation: number }>(
      'UPDATE state SET generation = generation + 1 WHERE id = 1 RETURNING generation',
    );
    await this.notifyChange(db, rows[0]!.generation);
  }

  /** Delivered to every listening replica when the transaction commits, and never if it rolls back. */
  private async notifyChange(db: Queryable, generation: number): Promise<void> {
    await db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(generation)]);
  }

  private async read(what: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    return this.run(what, (db) => db.query(sql, params));
  }

  /** One statement on any pooled connection (atomic on its own), turning failures into StoreErrors. */
  private async run<T>(what: string, fn: (db: Queryable) => Promise<T>): Promise<T> {
    try {
      return await fn(this.pool);
    } catch (err) {
      throw translate(err, this.where, what);
    }
  }

  /** `fn` in one BEGIN … COMMIT on one connection; any failure rolls all of it back. */
  private async transaction<T>(what: string, fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err, this.where, what);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw translate(err, this.where, what);
    } finally {
      // A connection whose rollback failed is in an unknown state: it leaves the pool.
      client.release(broken);
    }
  }
}

function translate(err: unknown, where: string, what: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown }).code;
  const message = redactCredentials(err instanceof Error ? err.message : String(err));
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '57P01' || code === '08006') {
    return new StoreError(
      `could not ${what}: ${where} is not reachable (${message}); nothing was changed, ` +
        'check that PostgreSQL is up and the store URL is right',
      'io',
      { cause: err },
    );
  }
  return new StoreError(`could not ${what} in ${where}: ${message}`, 'io', { cause: err });
}

/** Keeps an apply's or a retirement's audit lines in its own transaction (see PendingAudit). */
async function keepAudit(db: Queryable, audit: PendingAudit): Promise<void> {
  if (audit.entries.length === 0) return;
  await db.query('INSERT INTO audit_pending (id, entries) VALUES ($1, $2)', [
    audit.id,
    encodeAuditEntries(audit.entries),
  ]);
}

/** The advisory lock under which one replica at a time appends kept audit lines (unique to taskops). */
const AUDIT_RECOVERY_LOCK = 7_413_003;
