import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  contentHash,
  MIGRATIONS,
  openStore,
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

const run = runRecord;

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

  it('reopens an existing store without migrating twice', async () => {
    await store.applyWrites([{ action: 'create', object: content('t1') }], 'r1', AT);
    await store.close();
    store = await openStore(join(dir, 'data'));
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['t1']);
  });

  it('applies creates, updates and deletes in one call and records the revision and a new generation', async () => {
    await store.applyWrites(
      [
        { action: 'create', object: content('t1') },
        { action: 'create', object: content('t2') },
      ],
      'r1',
      AT,
    );
    expect(await store.generation()).toBe(1);
    await store.applyWrites(
      [
        { action: 'update', object: content('t1', ['b']) },
        { action: 'delete', kind: 'Tag', name: 't2' },
      ],
      'r2',
      new Date('2026-03-02T00:00:00Z'),
    );
    const objects = await store.listObjects();
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({
      name: 't1',
      managedBy: 'taskops',
      revision: 'r2',
      spec: { members: ['b'] },
    });
    expect(objects[0]?.appliedHash).toBe(objects[0]?.hash);
    expect(await store.getAppliedRevision()).toEqual({
      revision: 'r2',
      appliedAt: '2026-03-02T00:00:00.000Z',
    });
    expect(await store.generation()).toBe(2);
  });

  it('records the applied revision of an empty write set without bumping the generation', async () => {
    await store.applyWrites([], 'r1', AT);
    expect(await store.getAppliedRevision()).toMatchObject({ revision: 'r1' });
    expect(await store.generation()).toBe(0);
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

  it('refuses a stale plan when the generation moved since it was read', async () => {
    await store.putObjectByHand(content('by-hand'), AT);
    await expect(
      store.applyWrites([{ action: 'create', object: content('t1') }], 'r1', AT, { expectGeneration: 0 }),
    ).rejects.toThrow(/changed while the plan was being made/);
    expect(await store.getObject('Tag', 't1')).toBeUndefined();
  });

  it('marks objects made by hand as managed by the api', async () => {
    await store.putObjectByHand(content('mine'), AT);
    expect(await store.getObject('Tag', 'mine')).toMatchObject({
      managedBy: 'api',
      revision: null,
      appliedHash: null,
    });
  });

  it('keeps a hand-edited taskops object managed by taskops but with a new hash, so it shows as drift', async () => {
    await store.applyWrites([{ action: 'create', object: content('t1') }], 'r1', AT);
    const applied = await store.getObject('Tag', 't1');
    await store.putObjectByHand(content('t1', ['edited']), AT);
    const edited = await store.getObject('Tag', 't1');
    expect(edited).toMatchObject({ managedBy: 'taskops', revision: 'r1', appliedHash: applied?.hash });
    expect(edited?.hash).not.toBe(applied?.hash);
  });

  it('retires a task and refuses to retire one that does not exist', async () => {
    const metadata = { name: 'once' };
    const spec = { objectType: 'vms', action: 'power-on', deleteAfterRun: true };
    await store.applyWrites(
      [
        {
          action: 'create',
          object: { kind: 'Task', name: 'once', metadata, spec, hash: contentHash(metadata, spec) },
        },
      ],
      'r1',
      AT,
    );
    await store.retireTask('once', AT);
    expect((await store.getObject('Task', 'once'))?.retiredAt).toBe(AT.toISOString());
    await expect(store.retireTask('nope', AT)).rejects.toThrow(/cannot retire Task\/nope/);
  });

  it('lists objects of one kind, ordered by name', async () => {
    await store.applyWrites(
      [
        { action: 'create', object: content('b') },
        { action: 'create', object: content('a') },
      ],
      'r',
      AT,
    );
    expect((await store.listObjects('Tag')).map((o) => o.name)).toEqual(['a', 'b']);
    expect(await store.listObjects('Task')).toEqual([]);
  });

  it('keeps meta values', async () => {
    expect(await store.getMeta('k')).toBeUndefined();
    await store.setMeta('k', 'v1');
    await store.setMeta('k', 'v2');
    expect(await store.getMeta('k')).toBe('v2');
  });

  it('stores events durably, hands out pending ones oldest first, and stores a repeated id once', async () => {
    const ev = (id: string) => ({
      id,
      type: 'users',
      name: 'login',
      object: 'JT',
      fields: { n: 1, ok: true },
      at: AT.toISOString(),
    });
    await store.addEvent(ev('e2'));
    await store.addEvent(ev('e1'));
    await store.addEvent(ev('e2'));
    expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['e2', 'e1']);
    await store.markEventProcessed('e2');
    const pending = await store.pendingEvents();
    expect(pending).toEqual([{ ...ev('e1'), status: 'pending' }]);
    await expect(store.markEventProcessed('nope')).rejects.toThrow(StoreError);
  });

  it('stores runs, patches them, and filters by task, status and time, newest first', async () => {
    await store.insertRun(run('r1', { queuedAt: '2026-03-01T10:00:00.000Z' }));
    await store.insertRun(run('r2', { queuedAt: '2026-03-01T11:00:00.000Z', task: 'other' }));
    await store.insertRun(
      run('r3', { queuedAt: '2026-03-01T12:00:00.000Z', details: { attempts: [{ status: 500 }] } }),
    );
    await store.updateRun('r1', {
      status: 'succeeded',
      finishedAt: '2026-03-01T10:00:01.000Z',
      durationMs: 1000,
      attempts: 1,
    });
    expect(await store.getRun('r1')).toMatchObject({
      status: 'succeeded',
      durationMs: 1000,
      attempts: 1,
      task: 'power-on',
    });
    expect((await store.getRun('r3'))?.details).toEqual({ attempts: [{ status: 500 }] });
    expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
    expect((await store.listRuns({ task: 'power-on' })).map((r) => r.runId)).toEqual(['r3', 'r1']);
    expect((await store.listRuns({ status: ['succeeded'] })).map((r) => r.runId)).toEqual(['r1']);
    expect((await store.listRuns({ since: '2026-03-01T11:00:00.000Z' })).map((r) => r.runId)).toEqual([
      'r3',
      'r2',
    ]);
    expect((await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.runId)).toEqual(['r2']);
    expect(await store.getRun('nope')).toBeUndefined();
    await expect(store.updateRun('nope', { status: 'failed' })).rejects.toThrow(/no run with id nope/);
  });
});
