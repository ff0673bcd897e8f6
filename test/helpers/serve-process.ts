import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const BIN = path.resolve('bin/taskops.js');

/** Starts the built `taskops serve` as a real process and waits until /readyz answers. */
export async function startServe(opts: {
  globalArgs: string[];
  serveArgs: string[];
  env?: Record<string, string>;
  port?: number;
  /** serve's --log-level; default warn (benches measure the default, info). */
  logLevel?: string;
  /** The working directory, so a relative PATH names files as an operator's would; default this one. */
  cwd?: string;
  /** Node's own flags, before bin/taskops.js (e.g. `--import` of a loader hook). */
  nodeArgs?: string[];
}): Promise<ServeProcess> {
  const port = opts.port ?? (await freePort());
  const proc = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      BIN,
      ...opts.globalArgs,
      'serve',
      ...opts.serveArgs,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      opts.logLevel ?? 'warn',
    ],
    {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    },
  );
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`taskops serve exited early (${proc.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`taskops serve did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    proc,
    output: () => output,
    exited,
    kill: async (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
