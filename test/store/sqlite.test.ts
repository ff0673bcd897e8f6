import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  contentHash,
  MIGRATIONS,
  openStore,
  SqliteStore,
  StoreError,
  type ObjectContent,
  type Store,
} from '../../src/store/index.js';

import { runRecord } from '../helpers/runs.js';

const AT = new Date('2026-03-01T10:00:00Z');

function content(name: string, members: string[] = ['a']): ObjectContent {
  const metadata = { name, labels: {} };
  const spec = { category: 'vms', members };
  return { kind: 'Tag', name, metadata, spec, hash: contentHash(metadata, spec) };
}

describe('SqliteStore', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-store-'));
    store = await openStore(join(dir, 'data'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the data dir and a WAL-mode database at the latest schema version', () => {
    expect(existsSync(join(dir, 'data', 'taskops.db'))).toBe(true);
    const db = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: MIGRATIONS.length });
    db.close();
  });

  it('reads the events since a time through an index on their time, in order, without scanning or sorting', () => {
    const db = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM events WHERE at >= ? ORDER BY at, rowid LIMIT ?')
      .all('2026-03-01T10:00:00.000Z', 10) as Array<{ detail: string }>;
    db.close();
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH events USING INDEX events_at (at>?)']);
  });

  it('finds the pending events through an index of those alone: processed events are in no status index', async () => {
    const event = (id: string) => ({
      id,
      type: 'users',
      name: 'login',
      object: null,
      fields: {},
      at: AT.toISOString(),
    });
    await store.addEvents([event('e1'), event('e2'), event('e3')]);
    await store.markEventProcessed('e2');
    const db = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM events WHERE status = 'pending' ORDER BY rowid LIMIT ?`)
      .all(10) as Array<{ detail: string }>;
    const indexed = db
      .prepare(`SELECT id FROM events INDEXED BY events_pending WHERE status = 'pending' ORDER BY rowid`)
      .all();
    const indexes = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`)
      .all();
    db.close();
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH events USING INDEX events_pending (status=?)']);
    expect(indexed).toEqual([{ id: 'e1' }, { id: 'e3' }]);
    expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['e1', 'e3']);
    expect(indexes).not.toContainEqual({ name: 'events_status' });
  });

  it('reopens an existing store without migrating twice', async () => {
    await store.applyWrites([{ action: 'create', object: content('t1') }], 'r1', AT);
    await store.close();
    store = await openStore(join(dir, 'data'));
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['t1']);
  });

  it('scans the objects table with a small page cache and gives the connection its own size back', async () => {
    await store.applyWrites([{ action: 'create', object: content('t1') }], 'r1', AT);
    const db = (store as unknown as { db: Database.Database }).db;
    const own = db.pragma('cache_size', { simple: true });
    const pragma = vi.spyOn(db, 'pragma');
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['t1']);
    expect((await store.listObjectSummaries()).map((o) => o.name)).toEqual(['t1']);
    expect((await store.listObjectSpecs()).map((o) => o.name)).toEqual(['t1']);
    const sizes = pragma.mock.calls.map(([text]) => text).filter((text) => text.startsWith('cache_size ='));
    expect(sizes).toEqual(
      Array.from({ length: 3 }, () => ['cache_size = -1024', `cache_size = ${own}`]).flat(),
    );
    pragma.mockRestore();
    expect(db.pragma('cache_size', { simple: true })).toBe(own);
  });

  it('rolls back every write of an apply when one fails', async () => {
    const bad = { ...content('t2'), metadata: undefined as never };
    await expect(
      store.applyWrites(
        [
          { action: 'create', object: content('t1') },
          { action: 'create', object: bad },
        ],
        'r1',
        AT,
      ),
    ).rejects.toThrow(StoreError);
    expect(await store.listObjects()).toEqual([]);
    expect(await store.getAppliedRevision()).toBeNull();
  });

  it("migrates a store of schema version 1: existing runs get no lease, sys_ events become the engine's own", async () => {
    await store.close();
    const old = join(dir, 'old');
    mkdirSync(old);
    const db = new Database(join(old, 'taskops.db'));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);');
    db.exec(MIGRATIONS[0]!);
    db.prepare(
      `INSERT INTO events (id, type, name, object, fields, at, status) VALUES
       ('sys_1', 'tasks', 'failed', 't', '{}', '2026-03-01T10:00:00.000Z', 'pending'),
       ('evt_1', 'users', 'login', null, '{}', '2026-03-01T10:00:00.000Z', 'pending')`,
    ).run();
    db.prepare(
      `INSERT INTO runs (run_id, task, status, trigger_kind, target_object_type, queued_at, started_at, attempts)
       VALUES ('r1', 't', 'running', 'manual', 'vms', '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.000Z', 0)`,
    ).run();
    db.close();
    store = await openStore(old);
    expect((await store.getEvent('sys_1'))?.origin).toBe('engine');
    expect((await store.getEvent('evt_1'))?.origin).toBeUndefined();
    expect(await store.getRun('r1')).toMatchObject({
      status: 'running',
      owner: null,
      leaseUntil: null,
      attemptLog: [],
    });
  });

  it('refuses writes with a StoreError naming the run once the file may not grow (disk full)', async () => {
    const sqlite = store as SqliteStore;
    sqlite.limitPages(sqlite.pageCount());
    const big = runRecord('big', { details: { output: 'x'.repeat(64 * 1024) } });
    const err = await store.insertRun(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(
      /could not store run big in .*taskops\.db: database or disk is full/,
    );
    sqlite.limitPages(null);
    expect(await store.insertRun(big)).toBe(true);
  });

  // OR IGNORE would also skip a row that breaks NOT NULL or CHECK: the run or event would vanish without a word.
  it('refuses a run that breaks a NOT NULL column with a StoreError, and answers false only for a duplicate id', async () => {
    expect(await store.insertRun(runRecord('r1'))).toBe(true);
    expect(await store.insertRun(runRecord('r1', { task: 'other' }))).toBe(false);
    expect((await store.getRun('r1'))?.task).toBe('power-on');
    const broken = runRecord('r2', { task: null as unknown as string });
    const err = await store.insertRun(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(
      /could not store run r2 in .*taskops\.db: NOT NULL constraint failed: runs\.task/,
    );
    expect(await store.getRun('r2')).toBeUndefined();
  });

  it('refuses an event that breaks a NOT NULL or CHECK column with a StoreError, and ignores only a duplicate id', async () => {
    const event = {
      id: 'e1',
      type: 'users',
      name: 'logout',
      object: 'JThompson',
      fields: {},
      at: AT.toISOString(),
    };
    await store.addEvent(event);
    await store.addEvent({ ...event, name: 'changed' });
    expect((await store.getEvent('e1'))?.name).toBe('logout');
    const noType = store.addEvent({ ...event, id: 'e2', type: null as unknown as string });
    await expect(noType).rejects.toThrow(StoreError);
    await expect(noType).rejects.toThrow(/NOT NULL constraint failed: events\.type/);
    const badOrigin = { ...event, id: 'e3', origin: 'elsewhere' as 'engine' };
    await expect(store.addEvent(badOrigin)).rejects.toThrow(/CHECK constraint failed/);
    expect(await store.getEvent('e2')).toBeUndefined();
    expect(await store.getEvent('e3')).toBeUndefined();
  });
});
