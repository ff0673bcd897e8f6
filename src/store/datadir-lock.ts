import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StoreError } from './errors.js';

export const DATA_DIR_LOCK_FILE = 'engine.lock';

/** Who holds a data dir: written into the lock file, shown to whoever is refused. */
export interface DataDirHolder {
  pid: number;
  startedAt: string;
  /** The command holding it: `serve`, or a one-shot command (`run`, `emit`, `reconcile`). */
  command: string;
  /** serve's --listen address, so a refused command can point at it with --server. */
  listen?: string;
  /** Tells this holder's file from a later one at the same path. */
  nonce: string;
}

export interface DataDirLock {
  readonly holder: DataDirHolder;
  /** Removes the lock file if it is still this holder's; also done on process exit. */
  release(): void;
}

/** A live process holds the data dir: `holder` says which, for the refusal message. */
export class DataDirInUseError extends StoreError {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder,
  ) {
    super(
      `data dir ${dataDir} is in use by ${holder.command === 'serve' ? 'the engine' : `taskops ${holder.command},`} ` +
        `pid ${holder.pid}, started at ${holder.startedAt}`,
      'in-use',
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * Takes the data dir for this process (SQLite serves one engine per data dir): the lock file is created
 * exclusively, holding pid and start time. A lock whose process is gone is taken over; a live one makes
 * this throw DataDirInUseError.
 */
export function lockDataDir(
  dataDir: string,
  who: { command: string; listen?: string; startedAt: Date },
): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, DATA_DIR_LOCK_FILE);
  const holder: DataDirHolder = {
    pid: process.pid,
    startedAt: who.startedAt.toISOString(),
    command: who.command,
    ...(who.listen ? { listen: who.listen } : {}),
    nonce: randomUUID(),
  };
  // A stale lock is moved aside in one round and created in the next; a third covers a lost race.
  for (let round = 0; round < 3; round++) {
    if (createExclusive(path, JSON.stringify(holder) + '\n')) return held(path, holder);
    const current = readHolder(path);
    if (current && isAlive(current.pid)) throw new DataDirInUseError(dir, current);
    takeOverStale(path);
  }
  const current = readHolder(path);
  throw current
    ? new DataDirInUseError(dir, current)
    : new StoreError(`could not lock data dir ${dir}: ${path} keeps changing; try again`, 'in-use');
}

/** The live process holding the data dir, or null when none does (no lock, or its process is gone). */
export function dataDirHolder(dataDir: string): DataDirHolder | null {
  const current = readHolder(join(resolve(dataDir), DATA_DIR_LOCK_FILE));
  return current && isAlive(current.pid) ? current : null;
}

/** Creates `path` only if it does not exist, whole: written aside first, then linked (never seen half-written). */
function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${randomUUID()}.new`;
  try {
    writeFileSync(temp, content, { flag: 'wx' });
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`could not create the data dir lock ${path}: ${(err as Error).message}`, 'io');
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Moves a stale lock aside (rename is atomic, so of two takers only one gets the file). Should the moved
 * file be a live holder's, created just before by another taker, it is put back (link fails if a third
 * holder exists meanwhile, which then stands).
 */
function takeOverStale(path: string): void {
  const aside = `${path}.${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: the next round creates it
  }
  const moved = readHolder(aside);
  if (moved && isAlive(moved.pid)) {
    try {
      linkSync(aside, path);
    } catch {
      // another holder took the path in between: it stands
    }
  }
  unlinkSync(aside);
}

function held(path: string, holder: DataDirHolder): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Only our own file: after a takeover (our pid looked dead to someone) the path is another's.
    if (readHolder(path)?.nonce !== holder.nonce) return;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return { holder, release };
}

function readHolder(path: string): DataDirHolder | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<DataDirHolder>;
    if (typeof value.pid === 'number' && typeof value.startedAt === 'string')
      return { command: 'serve', nonce: '', ...value } as DataDirHolder;
  } catch {
    // not a lock this taskops wrote (files appear whole): treated as stale
  }
  return null;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
