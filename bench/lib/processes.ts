/** The separate processes of the HTTP benches: the load client, the bare floor server, and CPU read from /proc. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = path.dirname(fileURLToPath(import.meta.url));

export interface LoadOptions {
  url: string;
  method?: string;
  body?: string;
  /** Request k sends bodies[k % length]. */
  bodies?: string[];
  headers?: Record<string, string>;
  connections: number;
  durationMs: number;
  /** Requests per second in all (open loop); without it, closed loop as fast as answers come. */
  rate?: number;
  /** Keep the `id` of each 202 answer. */
  collectIds?: boolean;
}

export interface LoadResult {
  sent: number;
  statuses: Record<string, number>;
  errors: number;
  seconds: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  cpuSeconds: number;
  acceptedIds?: string[];
}

/** Runs bench/lib/load-client.mjs in its own process and returns what it printed. */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(LIB, 'load-client.mjs'), JSON.stringify(opts)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the load client exited with ${code}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch (err) {
        reject(new Error(`the load client printed no result: ${String(err)}`));
      }
    });
  });
}

export interface BareServer {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** bench/lib/bare-server.mjs in its own process, listening on 127.0.0.1. */
export function startBareServer(): Promise<BareServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(LIB, 'bare-server.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('error', reject);
    child.stdout.once('data', (c: Buffer) => {
      const port = /listening (\d+)/.exec(c.toString('utf8'))?.[1];
      if (!port) return reject(new Error(`the bare server said ${c.toString('utf8')}`));
      resolve({
        url: `http://127.0.0.1:${port}`,
        pid: child.pid!,
        close: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** Resident memory of a process now, in MB, from /proc/<pid>/status. */
export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
