import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash, openStore, StoreError, type ObjectContent } from '../../src/store/index.js';
import { tempDir } from '../helpers/git.js';

const HOLDER = join(import.meta.dirname, 'fixtures', 'hold-lock.mjs');

function object(name: string): ObjectContent {
  const metadata = { name };
  const spec = { category: 'vms' };
  return { kind: 'Tag', name, metadata, spec, hash: contentHash(metadata, spec) };
}

/** Starts another process that takes the write lock, resolving once it holds it. */
function holdLock(dataDir: string, ms: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HOLDER, join(dataDir, 'taskops.db'), String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('locked') && resolve(child));
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

describe('two processes on one data dir', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('taskops-lock-')));
  afterEach(() => tmp.cleanup());

  it('waits for the other process to finish writing, then applies', async () => {
    const store = await openStore(tmp.dir, { busyTimeoutMs: 10_000 });
    const holder = await holdLock(tmp.dir, 400);
    const started = performance.now();
    await store.applyWrites([{ action: 'create', object: object('t1') }], 'r1', new Date());
    expect(performance.now() - started).toBeGreaterThan(200);
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['t1']);
    expect(await store.generation()).toBe(2);
    await store.close();
    holder.kill();
  });

  it('fails with a clear StoreError, changing nothing, when the other process holds the lock past the timeout', async () => {
    const store = await openStore(tmp.dir, { busyTimeoutMs: 100 });
    const holder = await holdLock(tmp.dir, 5_000);
    try {
      const err = await store
        .applyWrites([{ action: 'create', object: object('t1') }], 'r1', new Date())
        .catch((e) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err.code).toBe('locked');
      expect(err.message).toContain('is locked by another taskops process');
      expect(err.message).toContain('nothing was changed');
      expect(await store.listObjects()).toEqual([]);
    } finally {
      holder.kill();
      await store.close();
    }
  });

  it('lets readers read while another process writes', async () => {
    const store = await openStore(tmp.dir, { busyTimeoutMs: 100 });
    await store.applyWrites([{ action: 'create', object: object('t1') }], 'r1', new Date());
    const holder = await holdLock(tmp.dir, 5_000);
    try {
      expect((await store.listObjects()).map((o) => o.name)).toEqual(['t1']);
      expect(await store.getAppliedRevision()).toMatchObject({ revision: 'r1' });
    } finally {
      holder.kill();
      await store.close();
    }
  });
});
