import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/index.js';
import { acquireLock } from '../../src/source/lock.js';

const lockPath = () => path.join(mkdtempSync(path.join(tmpdir(), 'taskops-lock-')), 'cache.lock');
/** Lets the waiting acquireLock run up to its next timer. */
const settle = () => new Promise((r) => setImmediate(r));

describe('the git cache lock', () => {
  it('makes a second holder wait, on the clock, until the first releases it', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const file = lockPath();
    const releaseFirst = await acquireLock(file, 'the cache', 5000, clock);
    let secondHasIt = false;
    const second = acquireLock(file, 'the cache', 5000, clock).then((release) => {
      secondHasIt = true;
      return release;
    });
    for (let i = 0; i < 10; i++) {
      await settle();
      clock.advanceBy(100);
    }
    await settle();
    expect(secondHasIt).toBe(false);
    releaseFirst();
    clock.advanceBy(100);
    const releaseSecond = await second;
    expect(secondHasIt).toBe(true);
    releaseSecond();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const file = lockPath();
    writeFileSync(file, '999999999');
    const release = await acquireLock(file, 'the cache', 1000, new ManualClock());
    release();
  });

  it('gives up with a clear error once the clock passes the timeout while the holder keeps it', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const file = lockPath();
    const release = await acquireLock(file, 'the cache of repo.git', 1000, clock);
    let settled = false;
    const waiting = acquireLock(file, 'the cache of repo.git', 300, clock).finally(() => (settled = true));
    waiting.catch(() => undefined);
    await settle();
    clock.advanceBy(200);
    await settle();
    expect(settled).toBe(false);
    clock.advanceBy(100);
    await expect(waiting).rejects.toThrow(
      `the cache of repo.git is in use by another taskops process (lock ${file}); try again when it has finished`,
    );
    release();
  });
});
