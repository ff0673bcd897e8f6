import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Kind } from '../manifest/types.js';
import { ActivityTables } from './activity.js';
import { BackgroundCheckpointer, type CheckpointerOptions, type CheckpointResult } from './checkpointer.js';
import { lockDataDir, type DataDirLock } from './datadir-lock.js';
import { DisabledWebhookTable } from './disabled-webhooks.js';
import { decodeAuditEntries, encodeAuditEntries } from './audit.js';
import { StoreError } from './errors.js';
import { FiringTable } from './firings.js';
import { GroupCommit } from './group-commit.js';
import { checkSchema, migrate } from './migrations.js';
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
import { SyncStatusTable } from './sync-status.js';
import type {
  AppliedRevision,
  ApplyWritesOptions,
  DisabledWebhook,
  EngineEvent,
  FiringOutcome,
  FiringRecord,
  InsertRunsOptions,
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
  SlotFiring,
  Store,
  StoredEvent,
  SyncAttempt,
  SyncStatusRecord,
  WaitingRunStatus,
  PendingAudit,
} from './types.js';

export const STORE_FILE = 'taskops.db';

export interface OpenStoreOptions {
  /** How long a write waits for another process's write transaction before failing (default 5 s). */
  busyTimeoutMs?: number;
  /**
   * Take the data dir for this process until close(): `serve`, and the one-shot commands that run tasks
   * or apply. A live holder makes the open fail with DataDirInUseError. Without it no lock is taken (read
   * commands, and tests that put two engines on one store to prove the store's transitions keep them apart).
   */
  lock?: { command: string; listen?: string; startedAt: Date };
  /**
   * Open an existing store for reading only (the read commands): never created, migrated or written, so a
   * mistyped --data-dir cannot leave an empty store behind. A missing file fails with StoreError('not-found').
   */
  readOnly?: boolean;
  /**
   * WAL checkpoints on a worker thread instead of inside the commit that crosses 1,000 WAL pages: for the
   * long-running engine (`serve`), whose commits are on its event loop. `onError` hears a failing worker;
   * the store then checkpoints on its own connection again.
   */
  backgroundCheckpoints?: CheckpointerOptions;
}

/** SQLite's page cache during a scan of the objects table (negative: KiB), instead of the connection's 16 MB. */
const SCAN_CACHE_SIZE = -1024;

/** Opens (creating when needed, unless read-only) the embedded store at `<dataDir>/taskops.db`. */
export async function openStore(dataDir: string, opts: OpenStoreOptions = {}): Promise<SqliteStore> {
  return SqliteStore.open(dataDir, opts);
}

/** How long a task-log mark waits for a group commit to ride in before it commits alone. */
const MARK_DELAY_MS = 100;

/**
 * The embedded live state: one SQLite file in WAL mode, so readers never block the writer. Every write is
 * a BEGIN IMMEDIATE transaction: with a `serve` and a `reconcile` on one data dir, one writes at a time and
 * the other waits up to the busy timeout, then fails with a StoreError('locked').
 */
export class SqliteStore implements Store {
  private readonly activity: ActivityTables;
  private readonly firings: FiringTable;
  private readonly syncStatus: SyncStatusTable;
  private readonly disabledWebhooks: DisabledWebhookTable;
  private readonly getMetaStmt: Database.Statement;
  private readonly setMetaStmt: Database.Statement;
  // The hot writes' transactions, made once: a new better-sqlite3 transaction wrapper per call cost about
  // as much as the BEGIN IMMEDIATE … COMMIT itself.
  private readonly setMetaTx: WriteTransaction<[key: string, value: string]>;
  /** Events and run transitions asked for in one turn of the event loop share one commit. */
  private readonly group: GroupCommit;
  private readonly recordFiringTx: WriteTransaction<
    [schedule: string, scheduledFor: string, outcome: FiringOutcome, catchUp: boolean, recordedAt: string],
    boolean
  >;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly lock: DataDirLock | null,
    private readonly busyTimeoutMs = 5000,
  ) {
    this.activity = new ActivityTables(db);
    this.firings = new FiringTable(db);
    this.syncStatus = new SyncStatusTable(db);
    this.disabledWebhooks = new DisabledWebhookTable(db);
    this.getMetaStmt = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.setMetaStmt = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.setMetaTx = this.writeTransaction((key, value) => void this.setMetaStmt.run(key, value));
    this.group = new GroupCommit(db, (err, what) => translate(err, path, what));
    const firings = this.firings;
    this.recordFiringTx = this.writeTransaction((schedule, scheduledFor, outcome, catchUp, recordedAt) =>
      firings.record(schedule, scheduledFor, outcome, catchUp, recordedAt),
    );
  }

  static open(dataDir: string, opts: OpenStoreOptions = {}): SqliteStore {
    const path = join(resolve(dataDir), STORE_FILE);
    // Before the database is touched: a refused second engine must not even migrate it.
    if (opts.readOnly) return SqliteStore.openReadOnly(path, opts);
    const lock = opts.lock ? lockDataDir(dataDir, opts.lock) : null;
    try {
      mkdirSync(resolve(dataDir), { recursive: true });
      const db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL keeps every transaction atomic across crashes; only a power loss may drop the last commits.
      db.pragma('synchronous = NORMAL');
      migrate(db, path);
      const store = new SqliteStore(db, path, lock, opts.busyTimeoutMs ?? 5000);
      if (opts.backgroundCheckpoints) store.checkpointInBackground(opts.backgroundCheckpoints);
      return store;
    } catch (err) {
      lock?.release();
      throw translate(err, path, 'open the store');
    }
  }

  private static openReadOnly(path: string, opts: OpenStoreOptions): SqliteStore {
    if (!existsSync(path)) throw new StoreError(`${path} does not exist`, 'not-found');
    try {
      const db = new Database(path, {
        readonly: true,
        fileMustExist: true,
        timeout: opts.busyTimeoutMs ?? 5000,
      });
      checkSchema(db, path);
      return new SqliteStore(db, path, null);
    } catch (err) {
      throw translate(err, path, 'open the store');
    }
  }

  // Every call outside the group commit first commits the group: it sees every write asked for before it.
  async listObjects(kind?: Kind): Promise<LiveObject[]> {
    this.group.flush();
    return this.scanning(() => {
      const rows = (
        kind
          ? this.db.prepare('SELECT * FROM objects WHERE kind = ? ORDER BY kind, name').iterate(kind)
          : this.db.prepare('SELECT * FROM objects ORDER BY kind, name').iterate()
      ) as IterableIterator<ObjectRow>;
      // Row by row: each row's JSON text dies as soon as it is parsed, instead of all 100,000s of them at once.
      const objects: LiveObject[] = [];
      for (const row of rows) objects.push(objectFromRow(row));
      return objects;
    });
  }

  async listObjectSummaries(): Promise<LiveObjectSummary[]> {
    this.group.flush();
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM objects ORDER BY kind, name`);
    return this.scanning(() => (rows.all() as SummaryRow[]).map(summaryFromRow));
  }

  async visitObjectSummaries(visit: (o: LiveObjectSummary) => boolean): Promise<boolean> {
    this.group.flush();
    return this.scanning(() => {
      const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM objects ORDER BY kind, name`).iterate();
      // A break closes the statement (the iterator's return), so the connection is free again at once.
      for (const row of rows as IterableIterator<SummaryRow>) if (!visit(summaryFromRow(row))) return false;
      return true;
    });
  }

  async listObjectSpecs(): Promise<LiveObjectSpec[]> {
    this.group.flush();
    return this.scanning(() => {
      const rows = this.db.prepare(`SELECT ${SPEC_COLUMNS} FROM objects ORDER BY kind, name`).iterate();
      const objects: LiveObjectSpec[] = [];
      for (const row of rows as IterableIterator<SpecRow>) objects.push(specFromRow(row));
      return objects;
    });
  }

  /**
   * A read of the whole objects table with SQLite's page cache held small: each page is read once per scan,
   * so caching it buys nothing, and at 100,000 objects the scan filled better-sqlite3's 16 MB cache with
   * pages of the objects table (16 MB of serve's peak and resident memory). The cache is lowered only for
   * the scan (synchronous: no other statement runs meanwhile) and its pages beyond the small size are freed.
   */
  private scanning<T>(scan: () => T): T {
    const size = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${SCAN_CACHE_SIZE}`);
    try {
      return scan();
    } finally {
      this.db.pragma(`cache_size = ${size}`);
    }
  }

  async getObject<K extends Kind>(kind: K, name: string): Promise<LiveObject<K> | undefined> {
    this.group.flush();
    const row = this.db.prepare('SELECT * FROM objects WHERE kind = ? AND name = ?').get(kind, name) as
      ObjectRow | undefined;
    return row ? (objectFromRow(row) as LiveObject<K>) : undefined;
  }

  async applyWrites(
    writes: ObjectWrite[],
    revision: string,
    at: Date,
    opts: ApplyWritesOptions = {},
  ): Promise<void> {
    this.group.flush();
    const now = at.toISOString();
    // Positional parameters: binding an object by name per row is ≈ 10% of a 110,000-row apply.
    const upsert = this.db.prepare(
      `INSERT INTO objects (kind, name, metadata, spec, hash, applied_hash, managed_by, revision, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'taskops', ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET metadata = excluded.metadata, spec = excluded.spec,
         hash = excluded.hash, applied_hash = excluded.hash, managed_by = 'taskops',
         revision = excluded.revision, updated_at = excluded.updated_at`,
    );
    const remove = this.db.prepare('DELETE FROM objects WHERE kind = ? AND name = ?');
    this.write('apply the plan', () => {
      if (opts.expectGeneration !== undefined) {
        const current = this.readGeneration();
        if (current !== opts.expectGeneration) {
          throw new StoreError(
            `the live state in ${this.path} changed while the plan was being made ` +
              `(generation ${opts.expectGeneration} → ${current}); nothing was applied: run reconcile again`,
            'stale-plan',
          );
        }
      }
      for (const w of writes) {
        if (w.action === 'delete') remove.run(w.kind, w.name);
        else
          upsert.run(
            w.object.kind,
            w.object.name,
            JSON.stringify(w.object.metadata),
            'specJson' in w ? w.specJson : JSON.stringify(w.object.spec),
            w.object.hash,
            w.object.hash,
            revision,
            now,
          );
      }
      this.db
        .prepare('UPDATE state SET revision = ?, applied_at = ?, generation = generation + ? WHERE id = 1')
        .run(revision, now, writes.length > 0 ? 1 : 0);
      if (opts.audit) this.keepAudit(opts.audit);
    });
  }

  private keepAudit(audit: PendingAudit): void {
    if (audit.entries.length === 0) return;
    this.db
      .prepare('INSERT INTO audit_pending (id, entries) VALUES (?, ?)')
      .run(audit.id, encodeAuditEntries(audit.entries));
  }

  async takePendingAudits(write: (audits: PendingAudit[]) => readonly string[]): Promise<number> {
    this.group.flush();
    // Nearly always none: a read first, so an idle engine's sweep takes no write lock for it.
    if (!this.db.prepare('SELECT 1 FROM audit_pending LIMIT 1').get()) return 0;
    let taken = 0;
    this.write('append the audit lines a stop left', () => {
      const ids = write(this.pendingAuditRows());
      const remove = this.db.prepare('DELETE FROM audit_pending WHERE id = ?');
      for (const id of ids) remove.run(id);
      taken = ids.length;
    });
    return taken;
  }

  private pendingAuditRows(): PendingAudit[] {
    const rows = this.db.prepare('SELECT id, entries FROM audit_pending ORDER BY rowid').all() as Array<{
      id: string;
      entries: string;
    }>;
    return rows.map((r) => ({ id: r.id, entries: decodeAuditEntries(r.entries) }));
  }

  async auditWritten(id: string): Promise<void> {
    this.group.flush();
    this.write('mark audit lines written', () => {
      this.db.prepare('DELETE FROM audit_pending WHERE id = ?').run(id);
    });
  }

  async putObjectByHand(object: ObjectContent, at: Date): Promise<void> {
    this.group.flush();
    // On an existing object only the content changes: a taskops object stays taskops-managed, and
    // its applied_hash no longer matches, which is how drift shows.
    const sql = `INSERT INTO objects (kind, name, metadata, spec, hash, applied_hash, managed_by, revision, updated_at)
       VALUES (@kind, @name, @metadata, @spec, @hash, NULL, 'api', NULL, @now)
       ON CONFLICT (kind, name) DO UPDATE SET metadata = excluded.metadata, spec = excluded.spec,
         hash = excluded.hash, updated_at = excluded.updated_at`;
    this.write('write an object by hand', () => {
      this.db.prepare(sql).run({
        kind: object.kind,
        name: object.name,
        metadata: JSON.stringify(object.metadata),
        spec: JSON.stringify(object.spec),
        hash: object.hash,
        now: at.toISOString(),
      });
      this.bumpGeneration();
    });
  }

  async retireTask(name: string, at: Date, audit?: PendingAudit): Promise<void> {
    this.group.flush();
    this.write(`retire Task/${name}`, () => {
      const info = this.db
        .prepare(`UPDATE objects SET retired_at = ? WHERE kind = 'Task' AND name = ?`)
        .run(at.toISOString(), name);
      if (info.changes === 0)
        throw new StoreError(`cannot retire Task/${name}: no such task in ${this.path}`, 'not-found');
      this.bumpGeneration();
      if (audit) this.keepAudit(audit);
    });
  }

  async getAppliedRevision(): Promise<AppliedRevision | null> {
    this.group.flush();
    const row = this.db.prepare('SELECT revision, applied_at FROM state WHERE id = 1').get() as {
      revision: string | null;
      applied_at: string | null;
    };
    return row.revision === null || row.applied_at === null
      ? null
      : { revision: row.revision, appliedAt: row.applied_at };
  }

  async generation(): Promise<number> {
    this.group.flush();
    return this.readGeneration();
  }

  async recordSyncAttempt(attempt: SyncAttempt): Promise<void> {
    this.group.flush();
    this.write('record the reconcile attempt', () => this.syncStatus.record(attempt));
  }

  async getSyncStatus(): Promise<SyncStatusRecord | null> {
    this.group.flush();
    return this.syncStatus.get();
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.group.flush();
    const row = this.getMetaStmt.get(key) as { value: string } | undefined;
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.group.flush();
    this.setMetaTx(`set meta ${key}`, key, value);
  }

  async disableWebhook(name: string, entry: DisabledWebhook): Promise<void> {
    this.group.flush();
    this.single(`record that Webhook/${name} is disabled`, () => this.disabledWebhooks.set(name, entry));
  }

  async enableWebhook(name: string): Promise<boolean> {
    this.group.flush();
    return this.single(`enable Webhook/${name}`, () => this.disabledWebhooks.clear(name));
  }

  async getDisabledWebhook(name: string): Promise<DisabledWebhook | undefined> {
    this.group.flush();
    return this.disabledWebhooks.get(name);
  }

  async listDisabledWebhooks(): Promise<Map<string, DisabledWebhook>> {
    this.group.flush();
    return this.disabledWebhooks.list();
  }

  async addEvent(event: EngineEvent): Promise<void> {
    return this.group.enqueue('store an event', () => this.activity.addEvent(event));
  }

  async addEvents(events: readonly EngineEvent[], processed: ReadonlySet<string> = new Set()): Promise<void> {
    const at = new Date().toISOString();
    return this.group.enqueue(`store ${events.length} events`, () => {
      for (const e of events) this.activity.addEvent(e, processed.has(e.id) ? at : null);
    });
  }

  async pendingEvents(limit?: number): Promise<StoredEvent[]> {
    this.group.flush();
    return this.activity.pendingEvents(limit);
  }

  async pruneActivity(before: Date): Promise<number> {
    this.group.flush();
    let removed = 0;
    this.write('prune old runs, events and firings', () => {
      removed = this.activity.prune(before.toISOString()) + this.firings.prune(before.toISOString());
    });
    return removed;
  }

  async eventsSince(since: Date, limit = 100_000): Promise<StoredEvent[]> {
    this.group.flush();
    return this.activity.eventsSince(since.toISOString(), limit);
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    this.group.flush();
    return this.activity.getEvent(id);
  }

  async markEventProcessed(id: string): Promise<void> {
    const at = new Date().toISOString();
    return this.group.enqueue(`mark event ${id} processed`, () => this.activity.markEventProcessed(id, at));
  }

  async insertRun(run: RunRecord): Promise<boolean> {
    return this.group.enqueue(`store run ${run.runId}`, () => this.activity.insertRun(run));
  }

  async insertRuns(runs: readonly RunRecord[], opts: InsertRunsOptions = {}): Promise<boolean[]> {
    const { firing } = opts;
    const what = opts.processedEvent
      ? `store the runs of event ${opts.processedEvent}`
      : firing
        ? `store the firing of Schedule/${firing.schedule} at ${firing.scheduledFor.toISOString()} with its runs`
        : `store runs ${runs.map((r) => r.runId).join(', ')}`;
    const at = new Date().toISOString();
    // Inside the one transaction: a slot another engine took stores nothing, a failed run stores no slot.
    // The results are made inside too: a group that failed is applied again write by write.
    return this.group.enqueue(what, () => {
      if (firing && !this.recordSlot(firing)) return runs.map(() => false);
      const inserted = runs.map((run) => this.activity.insertRun(run));
      if (opts.processedEvent !== undefined) this.activity.markEventProcessed(opts.processedEvent, at);
      return inserted;
    });
  }

  private recordSlot(firing: SlotFiring): boolean {
    return this.firings.record(
      firing.schedule,
      firing.scheduledFor.toISOString(),
      firing.outcome,
      firing.catchUp,
      firing.recordedAt.toISOString(),
    );
  }

  // Each transition is one compare-and-set UPDATE; the group commit puts those of one turn in one transaction.
  async claimRun(
    runId: string,
    from: WaitingRunStatus,
    claim: RunClaim,
    seen?: RunRecord,
  ): Promise<RunRecord | null> {
    return this.group.enqueue(`claim run ${runId}`, () => this.activity.claimRun(runId, from, claim, seen));
  }

  async renewLeases(owner: string, runIds: readonly string[], until: Date): Promise<string[]> {
    this.group.flush();
    return this.single(`renew the leases of ${owner}`, () => this.activity.renewLeases(owner, runIds, until));
  }

  async delayRun(runId: string, owner: string, retry: RunRetry, seen?: RunRecord): Promise<RunRecord | null> {
    return this.group.enqueue(`delay run ${runId}`, () => this.activity.delayRun(runId, owner, retry, seen));
  }

  async finishRun(
    runId: string,
    owner: string,
    outcome: RunOutcome,
    seen?: RunRecord,
  ): Promise<RunRecord | null> {
    return this.group.enqueue(
      `record the end of run ${runId}`,
      () => this.activity.finishRun(runId, owner, outcome, seen),
      (done) => {
        if (done) outcome.onRecorded?.(done);
      },
    );
  }

  async cancelRun(runId: string, from: WaitingRunStatus, end: RunCancel): Promise<RunRecord | null> {
    return this.group.enqueue(`end run ${runId}`, () => this.activity.cancelRun(runId, from, end));
  }

  async markLogged(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    // Nothing waits on a mark: it rides in the next group commit instead of adding one.
    return this.group.enqueueLazy(
      `mark the task-log lines of ${runIds.length} runs written`,
      () => this.activity.markLogged(runIds),
      MARK_DELAY_MS,
    );
  }

  async logUnlogged(before: Date, limit: number, write: (runs: RunRecord[]) => void): Promise<number> {
    this.group.flush();
    let given = 0;
    // One writer holds the database for the transaction, so no other engine sweeps the same runs.
    this.write('write the task-log lines runs ended without', () => {
      const runs = this.activity.unlogged(before, limit);
      if (runs.length === 0) return;
      write(runs);
      this.activity.markLogged(runs.map((run) => run.runId));
      given = runs.length;
    });
    return given;
  }

  async interruptExpired(now: Date, maxInterruptions: number): Promise<RunRecord[]> {
    this.group.flush();
    return this.single('interrupt runs whose lease expired', () =>
      this.activity.interruptExpired(now, maxInterruptions),
    );
  }

  async recordFiring(
    schedule: string,
    scheduledFor: Date,
    firing: { outcome: FiringOutcome; catchUp: boolean; recordedAt: Date },
  ): Promise<boolean> {
    this.group.flush();
    const slot = scheduledFor.toISOString();
    return this.recordFiringTx(
      `record the firing of Schedule/${schedule} at ${slot}`,
      schedule,
      slot,
      firing.outcome,
      firing.catchUp,
      firing.recordedAt.toISOString(),
    );
  }

  async lastFirings(): Promise<Map<string, Date>> {
    this.group.flush();
    return this.firings.latest();
  }

  async listFirings(schedule?: string): Promise<FiringRecord[]> {
    this.group.flush();
    return this.firings.list(schedule);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.group.flush();
    return this.activity.getRun(runId);
  }

  async listRuns(filter?: RunFilter): Promise<RunRecord[]> {
    this.group.flush();
    return this.activity.listRuns(filter);
  }

  private checkpointer: BackgroundCheckpointer | null = null;

  /** A checkpoint by the background worker now; null without one (or when it failed). */
  async checkpointNow(): Promise<CheckpointResult | null> {
    this.group.flush();
    return this.checkpointer ? this.checkpointer.checkpointNow() : null;
  }

  /** SQLite's automatic checkpoint threshold on the engine's own connection (0: off, the worker's job once ready). */
  autoCheckpointPages(): number {
    return this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  }

  private checkpointInBackground({ onError, ...timing }: CheckpointerOptions): void {
    // A WAL that grew in a burst is cut back to this when it starts over.
    this.db.pragma('journal_size_limit = 33554432');
    this.checkpointer = new BackgroundCheckpointer(this.path, {
      ...timing,
      onLongWal: () => this.restartWal(),
      // Until the worker has opened the store, the commits checkpoint as usual.
      onReady: () => {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 0');
      },
      onError: (message) => {
        // The WAL must not grow without bound: this connection checkpoints again.
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
        onError?.(message);
      },
    });
  }

  /**
   * Copies the frames the worker's last pass left and makes the next commit write the WAL from its start. Never
   * waits: when the worker is checkpointing right now, the next long-WAL notice tries again.
   */
  private restartWal(): void {
    if (!this.db.open) return;
    this.group.flush();
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(RESTART)');
    } catch {
      // busy or locked: the next notice tries again
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  async close(): Promise<void> {
    // Writes asked for just before close still commit.
    this.group.flush();
    await this.checkpointer?.stop();
    this.checkpointer = null;
    // The last connection to close checkpoints what the worker left, so the WAL is empty afterwards.
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  private readGeneration(): number {
    return (this.db.prepare('SELECT generation FROM state WHERE id = 1').get() as { generation: number })
      .generation;
  }

  private bumpGeneration(): void {
    this.db.prepare('UPDATE state SET generation = generation + 1 WHERE id = 1').run();
  }

  /**
   * Caps the file at `pages` pages from now on (SQLite `max_page_count`; null lifts the cap): writes that need a
   * new page then fail as they would on a full disk. For exercising disk-full handling.
   */
  limitPages(pages: number | null): void {
    this.group.flush();
    this.db.pragma(`max_page_count = ${pages === null ? 4294967294 : Math.max(1, Math.floor(pages))}`);
  }

  /** Transactions the group commit made and the writes in them, since open (benches, tests). */
  groupCommitStats(): { commits: number; writes: number } {
    return { commits: this.group.commits, writes: this.group.writes };
  }

  /** Pages the file holds now (SQLite `page_count`). */
  pageCount(): number {
    this.group.flush();
    return this.db.pragma('page_count', { simple: true }) as number;
  }

  /** One statement in its own implicit transaction, turning SQLite failures into StoreErrors about `what`. */
  private single<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw translate(err, this.path, what);
    }
  }

  /** `fn` as a reusable BEGIN IMMEDIATE transaction, turning SQLite failures into StoreErrors about `what`. */
  private writeTransaction<A extends unknown[], R = void>(fn: (...args: A) => R): WriteTransaction<A, R> {
    const tx = this.db.transaction(fn);
    return (what, ...args) => {
      try {
        return tx.immediate(...args);
      } catch (err) {
        throw translate(err, this.path, what);
      }
    };
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, turning SQLite failures into StoreErrors. */
  private write(what: string, fn: () => void): void {
    try {
      this.db.transaction(fn).immediate();
    } catch (err) {
      throw translate(err, this.path, what);
    }
  }
}

/** One write transaction: `what` names it in errors ("could not <what>"). */
type WriteTransaction<A extends unknown[], R = void> = (what: string, ...args: A) => R;

function translate(err: unknown, path: string, what: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') {
    return new StoreError(
      `could not ${what}: ${path} is locked by another taskops process (a running serve or reconcile) ` +
        `and stayed locked past the busy timeout; nothing was changed, retry when it finishes`,
      'locked',
      { cause: err },
    );
  }
  return new StoreError(`could not ${what} in ${path}: ${message}`, 'io', { cause: err });
}
