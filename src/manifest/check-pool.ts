import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { CheckedFile, CheckOptions } from './check-file.js';

export interface CheckRequest {
  id: number;
  file: string;
  text: string;
  opts: CheckOptions;
}

export type CheckReply = { id: number; checked: CheckedFile } | { id: number; error: string };

/**
 * From this many bytes of manifests the files are checked in worker threads. A worker costs ≈ 90 ms of CPU
 * to start (its own copy of yaml and the schema checks) and the loader reads ≈ 1.5 MB of YAML a second on
 * one core, so below this a pool would only delay the answer (and `validate` of a small repo stays fast).
 */
export const PARALLEL_FROM_BYTES = 2 * 1024 * 1024;

/**
 * Threads for checking `files` files of `bytes` bytes: 0 (check them on this thread) for a small set or a
 * single core. `requested` overrides the choice (0 never uses threads), still at most one per file.
 */
export function poolSizeFor(bytes: number, files: number, requested?: number): number {
  const size =
    requested ?? (bytes >= PARALLEL_FROM_BYTES && availableParallelism() > 1 ? availableParallelism() : 0);
  return Math.min(size, files);
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (c: CheckedFile) => void; reject: (e: Error) => void }>;
  alive: boolean;
}

/**
 * Worker threads that check files (checkFile) while this thread reads the next ones and gathers the results.
 * Each request goes to the thread with the fewest outstanding; the caller awaits them in its own order. A
 * thread that fails rejects what it holds (the loader then checks those files itself) and gets no more.
 */
export class CheckPool {
  private nextId = 0;

  private constructor(private readonly threads: Thread[]) {}

  /**
   * Loaded only here, so a CLI start that checks on its own thread never pays for worker_threads.
   * `onStarted`: called once every thread has answered, so runs in it (a worker's start sets V8's flags
   * back to the process's own: serve sets its heap flags again then).
   */
  static async open(size: number, onStarted?: () => void): Promise<CheckPool> {
    const { Worker } = await import('node:worker_threads');
    let silent = size;
    const threads = Array.from({ length: size }, (): Thread => {
      const worker = startWorker(Worker);
      // A pool left open must never keep the process alive.
      worker.unref();
      const thread: Thread = { worker, pending: new Map(), alive: true };
      worker.once('message', () => {
        if (--silent === 0) onStarted?.();
      });
      worker.on('message', (reply: CheckReply) => {
        const waiting = thread.pending.get(reply.id);
        thread.pending.delete(reply.id);
        if ('error' in reply) waiting?.reject(new Error(`manifest check thread: ${reply.error}`));
        else waiting?.resolve(reply.checked);
      });
      const fail = (err: unknown) => {
        thread.alive = false;
        const error =
          err instanceof Error ? err : new Error(`manifest check thread stopped (${String(err)})`);
        for (const waiting of thread.pending.values()) waiting.reject(error);
        thread.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      return thread;
    });
    return new CheckPool(threads);
  }

  check(file: string, text: string, opts: CheckOptions): Promise<CheckedFile> {
    const live = this.threads.filter((t) => t.alive);
    if (live.length === 0) return Promise.reject(new Error('no manifest check thread is running'));
    const thread = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, file, text, opts } satisfies CheckRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.threads.map((t) => {
        t.alive = false;
        return t.worker.terminate();
      }),
    );
  }
}

/**
 * The built check-worker.js; from the TypeScript sources (the tests run them) tsx's loader is registered
 * in the thread first, since a worker does not inherit the loader of the thread that starts it.
 */
function startWorker(WorkerClass: typeof Worker): Worker {
  if (!import.meta.url.endsWith('.ts')) return new WorkerClass(new URL('./check-worker.js', import.meta.url));
  const entry = JSON.stringify(new URL('./check-worker.ts', import.meta.url).href);
  return new WorkerClass(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); });`,
    { eval: true },
  );
}
