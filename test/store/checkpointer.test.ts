import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpointer } from '../../src/store/checkpointer.js';
import { openStore, type SqliteStore } from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';

/** 500 runs, each committed on its own: enough WAL frames to cross SQLite's 1,000-page auto threshold. */
async function writeRuns(store: SqliteStore, prefix: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await store.insertRun(runRecord(`${prefix}-${i}`, { error: 'x'.repeat(2000) }));
  }
}

describe('WAL checkpoints on a worker thread (serve)', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-ckpt-'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns the commit-time checkpoints off, and the worker copies the WAL into the database', async () => {
    // Only the checkpoint asked for below: the periodic one would race the size checks.
    store = await openStore(join(dir, 'data'), { backgroundCheckpoints: { intervalMs: 3_600_000 } });
    // Until the worker has opened the store, commits checkpoint as usual; its first answer comes after that.
    await store.checkpointNow();
    expect(store.autoCheckpointPages()).toBe(0);
    const db = join(dir, 'data', 'taskops.db');
    const before = statSync(db).size;
    await writeRuns(store, 'a');
    // No commit checkpointed: the rows are only in the WAL so far.
    expect(statSync(db).size).toBe(before);
    const result = await store.checkpointNow();
    expect(result).not.toBeNull();
    expect(result!.log).toBeGreaterThan(0);
    expect(result!.checkpointed).toBe(result!.log);
    expect(statSync(db).size).toBeGreaterThan(before + 500 * 2000);
    expect((await store.getRun('a-499'))?.error).toBe('x'.repeat(2000));
  });

  it('starts the WAL over once it is long, so steady writes cannot grow it without bound', async () => {
    // Writes never stop: a PASSIVE pass alone never catches the last frame (the WAL passed 300 MB here).
    store = await openStore(join(dir, 'data'), {
      backgroundCheckpoints: { intervalMs: 20, restartFrames: 256 },
    });
    await store.checkpointNow();
    const wal = join(dir, 'data', 'taskops.db-wal');
    let written = 0;
    for (let i = 0; written < 64 * 1024 * 1024; i++) {
      // Several writes in flight at once, as under load: they share commits.
      await Promise.all(
        Array.from({ length: 8 }, (_, k) =>
          store.insertRun(runRecord(`w-${i}-${k}`, { error: 'x'.repeat(3000) })),
        ),
      );
      written += 8 * 3000;
      // An engine returns to the event loop between its turns (HTTP, timers): the worker's notices land there.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Each restart cuts the file back to journal_size_limit (32 MB).
    expect(statSync(wal).size).toBeLessThanOrEqual(40 * 1024 * 1024);
  });

  it('leaves an empty WAL behind when the store closes', async () => {
    store = await openStore(join(dir, 'data'), { backgroundCheckpoints: {} });
    await writeRuns(store, 'b');
    await store.close();
    const wal = join(dir, 'data', 'taskops.db-wal');
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    store = await openStore(join(dir, 'data'));
    expect((await store.listRuns({ limit: 1000 })).length).toBe(500);
  });

  it('keeps the commit-time checkpoints of a store opened without it (one-shot commands)', async () => {
    store = await openStore(join(dir, 'data'));
    expect(store.autoCheckpointPages()).toBe(1000);
    expect(await store.checkpointNow()).toBeNull();
  });

  it('reports a worker that cannot open the store, and answers "none" to a checkpoint asked of it', async () => {
    store = await openStore(join(dir, 'data'));
    const errors: string[] = [];
    const failed = new Promise<void>((resolve) => {
      const worker = new BackgroundCheckpointer(join(dir, 'missing.db'), {
        onError: (message) => {
          errors.push(message);
          resolve();
        },
      });
      void worker.checkpointNow().then((result) => expect(result).toBeNull());
    });
    await failed;
    expect(errors.join('\n')).toMatch(/missing\.db|unable to open|does not exist/i);
  });
});
