import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/source/lock.js';

const lockPath = () => path.join(mkdtempSync(path.join(tmpdir(), 'taskops-lock-')), 'cache.lock');

describe('the git cache lock', () => {
  it('makes a second holder wait until the first releases it', async () => {
    const file = lockPath();
    const releaseFirst = await acquireLock(file, 'the cache', 5000);
    let secondHasIt = false;
    const second = acquireLock(file, 'the cache', 5000).then((release) => {
      secondHasIt = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 250));
    expect(secondHasIt).toBe(false);
    releaseFirst();
    const releaseSecond = await second;
    expect(secondHasIt).toBe(true);
    releaseSecond();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const file = lockPath();
    writeFileSync(file, '999999999');
    const release = await acquireLock(file, 'the cache', 1000);
    release();
  });

  it('gives up with a clear error when the holder keeps it past the timeout', async () => {
    const file = lockPath();
    const release = await acquireLock(file, 'the cache of repo.git', 1000);
    await expect(acquireLock(file, 'the cache of repo.git', 300)).rejects.toThrow(
      `the cache of repo.git is in use by another taskops process (lock ${file}); try again when it has finished`,
    );
    release();
  });
});
