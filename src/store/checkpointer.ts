import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's whole code: its own connection to the store file, a PASSIVE checkpoint every `intervalMs`.
 * PASSIVE never waits for or blocks the engine's writes; it copies what it can and the rest goes next time.
 * But under steady writes a PASSIVE pass never catches the last frame, and the WAL only starts over from its
 * beginning once every frame is copied: it would grow without bound. So once it holds `restartFrames`, the
 * worker says so, and the engine's own connection runs a RESTART between two of its transactions: it copies
 * the few frames written since the pass and the next commit writes the WAL from its start. (A RESTART from
 * the worker starves: the engine takes the write lock again between each of its busy waits.) That RESTART
 * syncs the database file, on the engine's thread: the worker syncs it after each pass, and passes once more
 * right before its notice, so what is left to copy and flush then is a few milliseconds of writes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
let db;
let dbFd;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: 1000 });
  dbFd = fs.openSync(workerData.path, 'r');
} catch (err) {
  parentPort.postMessage({ error: 'cannot open ' + workerData.path + ': ' + ((err && err.message) || err) });
  process.exit(1);
}
// The checkpoint follows the synchronous setting of the connection that runs it: the same as the engine's.
db.pragma('synchronous = NORMAL');
parentPort.postMessage({ ready: true });
let failures = 0;
// After a long-WAL notice the worker waits for the engine's RESTART ('resume'), so the two never contend.
let waitingForRestart = false;
function pass() {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  // SQLite syncs the database only after a pass that copies the whole WAL, which under steady writes only the
  // engine's RESTART does: it would flush every page all passes since wrote (≈ 1 ms per 100 pages here).
  if (result.checkpointed > 0) fs.fdatasyncSync(dbFd);
  return result;
}
function checkpoint() {
  try {
    const result = pass();
    failures = 0;
    if (result.log >= workerData.restartFrames && !waitingForRestart) {
      waitingForRestart = true;
      // Once more, so the engine's RESTART finds only the frames of the last few milliseconds to copy and sync.
      const last = pass();
      parentPort.postMessage({ longWal: last.log });
      return last;
    }
    return result;
  } catch (err) {
    // Reported once per run of failures; the engine's own connection checkpoints again if this one cannot.
    if (failures++ === 0) parentPort.postMessage({ error: String((err && err.message) || err) });
    return null;
  }
}
const timer = setInterval(() => {
  if (!waitingForRestart) checkpoint();
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') return parentPort.postMessage({ checkpointed: checkpoint() });
  if (m === 'resume') return void (waitingForRestart = false);
  clearInterval(timer);
  db.close();
  fs.closeSync(dbFd);
  parentPort.close();
});
`;

/** SQLite's answer to one checkpoint: WAL frames in the log, and how many of them are in the database now. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  intervalMs?: number;
  /** WAL frames (pages) from which `onLongWal` is called (default 4,096: 16 MB of 4 KB pages). */
  restartFrames?: number;
  /** The WAL holds `restartFrames` or more after a pass: the caller restarts it on its own connection. */
  onLongWal?: (frames: number) => void;
  /** The worker checkpoints from now on: the caller's own automatic checkpoints can stop. */
  onReady?: () => void;
  onError?: (message: string) => void;
}

/**
 * Moves SQLite's WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database
 * file and syncs it; with automatic checkpoints the commit that crosses 1,000 WAL pages does that work, which
 * under load was half of all commit time on the engine's thread. The caller turns automatic checkpoints off
 * and keeps this worker for the life of the connection; closing the last connection checkpoints what is left.
 */
export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private stopped: Promise<number> | null = null;
  private waiting: Array<(result: CheckpointResult | null) => void> = [];

  constructor(path: string, opts: CheckpointerOptions = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path,
        driver,
        intervalMs: opts.intervalMs ?? 100,
        restartFrames: opts.restartFrames ?? 4096,
      },
    });
    // The engine must not wait on this thread to exit.
    this.worker.unref();
    this.worker.on(
      'message',
      (m: { error?: string; ready?: boolean; longWal?: number; checkpointed?: CheckpointResult | null }) => {
        if (m.error) opts.onError?.(m.error);
        if (m.ready) opts.onReady?.();
        if (m.longWal !== undefined) {
          opts.onLongWal?.(m.longWal);
          if (!this.stopped) this.worker.postMessage('resume');
        }
        if ('checkpointed' in m) this.waiting.shift()?.(m.checkpointed ?? null);
      },
    );
    this.worker.on('error', (err) => opts.onError?.(err instanceof Error ? err.message : String(err)));
    // A worker that is gone answers no more: whoever waits for a checkpoint hears "none".
    this.worker.on('exit', () => this.waiting.splice(0).forEach((resolve) => resolve(null)));
  }

  /** One checkpoint now, besides the periodic ones (null when it failed). */
  checkpointNow(): Promise<CheckpointResult | null> {
    return new Promise((resolve) => {
      // Held while an answer is awaited, for the same reason as in stop().
      this.worker.ref();
      this.waiting.push((result) => {
        if (this.waiting.length === 0 && !this.stopped) this.worker.unref();
        resolve(result);
      });
      this.worker.postMessage('now');
    });
  }

  /** Stops the checkpoints and closes the worker's connection. */
  stop(): Promise<number> {
    if (!this.stopped) {
      const exited = new Promise<number>((resolve) => this.worker.once('exit', resolve));
      // Held until it has exited: an unref'd worker alone would let the process end mid-close.
      this.worker.ref();
      this.worker.postMessage('stop');
      this.stopped = exited;
    }
    return this.stopped;
  }
}
