import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError, type RunRecord, type Store } from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';

/** An event-triggered run whose details must survive partial updates. */
const run = (runId: string, over: Partial<RunRecord> = {}): RunRecord =>
  runRecord(runId, {
    trigger: { kind: 'event', name: 'on-login', event: 'ev-1' },
    details: { kept: true },
    ...over,
  });

describe('SqliteStore run updates', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-runs-'));
    store = await openStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changes only the patched fields and leaves the rest as stored', async () => {
    await store.insertRun(run('r1'));
    await store.updateRun('r1', { status: 'running', startedAt: '2026-03-01T10:00:01.000Z' });
    expect(await store.getRun('r1')).toEqual(
      run('r1', { status: 'running', startedAt: '2026-03-01T10:00:01.000Z' }),
    );
  });

  it('stores a whole finished record, nested trigger and target included, ignoring a runId inside the patch', async () => {
    await store.insertRun(run('r1'));
    const done = run('other-id', {
      task: 'renamed',
      status: 'failed',
      trigger: { kind: 'schedule', name: 'nightly', event: null },
      target: { objectType: 'jobs', name: null },
      startedAt: '2026-03-01T10:00:01.000Z',
      finishedAt: '2026-03-01T10:00:03.000Z',
      durationMs: 2000,
      attempts: 3,
      error: 'HTTP 500',
      details: { attempts: [{ status: 500 }] },
    });
    await store.updateRun('r1', done);
    expect(await store.getRun('r1')).toEqual({ ...done, runId: 'r1' });
    expect(await store.getRun('other-id')).toBeUndefined();
  });

  it('clears details and nullable fields patched to null', async () => {
    await store.insertRun(run('r1', { error: 'was', durationMs: 5 }));
    await store.updateRun('r1', { details: null, error: null, durationMs: null });
    expect(await store.getRun('r1')).toEqual(run('r1', { details: null }));
  });

  it('keeps patches of different shapes apart', async () => {
    await store.insertRun(run('r1'));
    await store.insertRun(run('r2'));
    await store.updateRun('r1', { attempts: 1 });
    await store.updateRun('r2', { error: 'x' });
    await store.updateRun('r1', { error: 'y' });
    expect(await store.getRun('r1')).toMatchObject({ attempts: 1, error: 'y' });
    expect(await store.getRun('r2')).toMatchObject({ attempts: 0, error: 'x' });
  });

  it('refuses to update a run that does not exist, even with an empty patch', async () => {
    await store.insertRun(run('r1'));
    await expect(store.updateRun('nope', { status: 'failed' })).rejects.toThrow(StoreError);
    const err = await store.updateRun('nope', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('not-found');
    await expect(store.updateRun('r1', {})).resolves.toBeUndefined();
    expect(await store.getRun('r1')).toEqual(run('r1'));
  });
});
