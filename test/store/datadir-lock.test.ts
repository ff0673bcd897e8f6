import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DATA_DIR_LOCK_FILE,
  DataDirInUseError,
  dataDirHolder,
  lockDataDir,
  openStore,
  STORE_FILE,
} from '../../src/store/index.js';
import { tempDir } from '../helpers/git.js';

let tmp: ReturnType<typeof tempDir>;
const lockFile = () => path.join(tmp.dir, DATA_DIR_LOCK_FILE);
const startedAt = new Date('2026-04-01T08:00:00Z');

beforeEach(() => (tmp = tempDir('taskops-datadir-')));
afterEach(() => tmp.cleanup());

describe('the data dir lock', () => {
  it('is created exclusively with pid and start time, and refuses a second holder while the first lives', () => {
    const lock = lockDataDir(tmp.dir, { command: 'serve', listen: '127.0.0.1:8080', startedAt });
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      pid: process.pid,
      startedAt: '2026-04-01T08:00:00.000Z',
      command: 'serve',
      listen: '127.0.0.1:8080',
    });
    const err = (() => {
      try {
        lockDataDir(tmp.dir, { command: 'serve', startedAt: new Date() });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toBe(
      `data dir ${tmp.dir} is in use by the engine pid ${process.pid}, started at 2026-04-01T08:00:00.000Z`,
    );
    expect(dataDirHolder(tmp.dir)).toMatchObject({ pid: process.pid, command: 'serve' });
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    expect(dataDirHolder(tmp.dir)).toBeNull();
  });

  it('names a one-shot holder by its command', () => {
    const lock = lockDataDir(tmp.dir, { command: 'run', startedAt });
    expect(() => lockDataDir(tmp.dir, { command: 'serve', startedAt })).toThrow(
      `data dir ${tmp.dir} is in use by taskops run, pid ${process.pid}, started at 2026-04-01T08:00:00.000Z`,
    );
    lock.release();
  });

  it('takes over a lock whose process is gone, and one that is not a taskops lock', () => {
    writeFileSync(lockFile(), JSON.stringify({ pid: 999_999_999, startedAt: '2020-01-01T00:00:00.000Z' }));
    expect(dataDirHolder(tmp.dir)).toBeNull();
    const lock = lockDataDir(tmp.dir, { command: 'serve', startedAt });
    expect(dataDirHolder(tmp.dir)).toMatchObject({ pid: process.pid });
    lock.release();
    writeFileSync(lockFile(), 'garbage');
    lockDataDir(tmp.dir, { command: 'serve', startedAt }).release();
    // Nothing left aside by the takeovers.
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('is released only when the file is still its own', () => {
    const lock = lockDataDir(tmp.dir, { command: 'serve', startedAt });
    const other = JSON.stringify({
      pid: process.pid,
      startedAt: startedAt.toISOString(),
      command: 'serve',
      nonce: 'x',
    });
    writeFileSync(lockFile(), other);
    lock.release();
    expect(readFileSync(lockFile(), 'utf8')).toBe(other);
  });

  it('is taken by openStore({lock}) before the database is touched, and released by close()', async () => {
    const first = await openStore(tmp.dir, { lock: { command: 'serve', startedAt } });
    const other = tempDir('taskops-datadir-');
    try {
      await expect(openStore(tmp.dir, { lock: { command: 'serve', startedAt } })).rejects.toBeInstanceOf(
        DataDirInUseError,
      );
      // Without `lock` (read commands, tests with two engines on one store) no lock is asked for.
      const reader = await openStore(tmp.dir);
      await reader.close();
      await first.close();
      expect(existsSync(lockFile())).toBe(false);
      const refusedEarly = lockDataDir(other.dir, { command: 'serve', startedAt });
      await expect(openStore(other.dir, { lock: { command: 'serve', startedAt } })).rejects.toThrow(/in use/);
      expect(existsSync(path.join(other.dir, STORE_FILE))).toBe(false);
      refusedEarly.release();
    } finally {
      other.cleanup();
    }
  });
});
