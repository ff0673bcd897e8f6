import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { SourceError } from './errors.js';

const POLL_MS = 100;

/** The time the lock waits on: the engine's Clock fits, so tests move it instead of sleeping. */
export interface LockClock {
  now(): Date;
  /** Calls `fire` once at `at`; returns a cancel function. */
  setTimer(at: Date, fire: () => void): () => void;
}

/** Wall time: a plain timer per wait. */
export const wallClock: LockClock = {
  now: () => new Date(),
  setTimer(at, fire) {
    const timer = setTimeout(fire, Math.max(0, at.getTime() - Date.now()));
    return () => clearTimeout(timer);
  },
};

/**
 * An exclusive lock between processes (a `taskops reconcile` in a shell and `serve`) on one git cache:
 * held from fetch until the snapshot is read, so one never checks out a revision under the other's feet.
 * A lock left by a process that no longer exists is taken over.
 */
export async function acquireLock(
  path: string,
  what: string,
  timeoutMs: number,
  clock: LockClock = wallClock,
): Promise<() => void> {
  const deadline = clock.now().getTime() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (holderIsGone(path)) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter removed it first
      }
      continue;
    }
    if (clock.now().getTime() >= deadline) {
      throw new SourceError(
        `${what} is in use by another taskops process (lock ${path}); try again when it has finished`,
        {},
      );
    }
    await new Promise<void>((resolve) => clock.setTimer(new Date(clock.now().getTime() + POLL_MS), resolve));
  }
}

function holderIsGone(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return false; // being written or just removed: look again
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
