/**
 * `taskops serve` holding 100,000 schedules, in its own process: time to ready (/readyz 200, which serve
 * answers only after its first sync) and peak RSS (VmHWM), on a first start (empty data dir) and on a restart
 * with nothing changed (the validated revision comes from the cache).
 * Run: npx tsx bench/serve-schedules.bench.ts   Env: BENCH_SCHEDULES (default 100000),
 * BENCH_NODE_ARGS (extra node flags for serve, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_RESTARTS
 * (default 1: the figure is the median of the restarts), BENCH_DIR (a folder kept after the bench: its repo and
 * data dir are reused, and a data dir already synced skips the first start, to measure restarts again quickly).
 * Needs a build (`npx tsc -p tsconfig.json`): serve runs dist/.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../test/helpers/serve-process.js';
import { goal, printResult } from './lib/report.js';
import { round } from './lib/stats.js';
import { tempDir } from './lib/tempdir.js';

const SCHEDULES = Number(process.env.BENCH_SCHEDULES ?? 100_000);
const RESTARTS = Math.max(1, Number(process.env.BENCH_RESTARTS ?? 1));
/** The loader reads at most 1,000 documents per file. */
const PER_FILE = 1_000;
const SCHEDULES_PER_TASK = 10;
const READY_DEADLINE_MS = 120_000;
/**
 * How often /readyz is asked: each answer costs serve ≈ 1 ms of its main thread (fastify, the access log at
 * debug), and at every 20 ms that was ≈ 0.5 s of a first start's CPU; the figure is late by at most this.
 */
const READY_POLL_MS = 100;
const BIN = path.resolve('bin/taskops.js');
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const hh = (n: number) => String(n).padStart(2, '0');
let starts = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Daily, weekly and monthly rules across zones: few firings during the bench, every form of rule. */
function scheduleSpec(i: number): Record<string, unknown> {
  const timezone = ZONES[i % ZONES.length]!;
  const at = `${hh(i % 24)}:${hh((i * 7) % 60)}`;
  switch (i % 4) {
    case 0:
      return { timezone, cron: `${i % 60} ${i % 24} * * ${i % 7}` };
    case 1:
      return { timezone, repeat: { unit: 'days', every: 1 + (i % 3), at } };
    case 2:
      return { timezone, repeat: { unit: 'weeks', every: 1, on: [WEEKDAYS[i % 7]], at } };
    default:
      return { timezone, repeat: { unit: 'months', on: [1 + (i % 28), 'last'], at } };
  }
}

const manifest = (kind: string, name: string, spec: Record<string, unknown>) =>
  stringify({ apiVersion: 'taskops/v1', kind, metadata: { name }, spec });

/** A git repository of SCHEDULES schedules and the tasks that list them, 1,000 documents per file. */
function makeRepo(dir: string): string {
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'schedules'), { recursive: true });
  mkdirSync(path.join(repo, 'tasks'), { recursive: true });
  const name = (i: number) => `s-${String(i).padStart(6, '0')}`;
  for (let f = 0; f * PER_FILE < SCHEDULES; f++) {
    const docs: string[] = [];
    for (let i = f * PER_FILE; i < Math.min(SCHEDULES, (f + 1) * PER_FILE); i++)
      docs.push(manifest('Schedule', name(i), scheduleSpec(i)));
    writeFileSync(path.join(repo, 'schedules', `${String(f).padStart(4, '0')}.yaml`), docs.join('---\n'));
  }
  const tasks = Math.ceil(SCHEDULES / SCHEDULES_PER_TASK);
  for (let f = 0; f * PER_FILE < tasks; f++) {
    const docs: string[] = [];
    for (let t = f * PER_FILE; t < Math.min(tasks, (f + 1) * PER_FILE); t++) {
      const schedules = Array.from({ length: SCHEDULES_PER_TASK }, (_, k) => t * SCHEDULES_PER_TASK + k)
        .filter((i) => i < SCHEDULES)
        .map(name);
      docs.push(
        manifest('Task', `t-${t}`, {
          objectType: 'jobs',
          action: 'ok',
          target: { name: `job-${t}` },
          schedules,
        }),
      );
    }
    writeFileSync(path.join(repo, 'tasks', `${String(f).padStart(4, '0')}.yaml`), docs.join('---\n'));
  }
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'ignore' });
  execFileSync('git', ['init', '-q', '--initial-branch=main', repo]);
  git('config', 'user.email', 'bench@taskops.invalid');
  git('config', 'user.name', 'bench');
  git('add', '-A');
  git('commit', '-qm', 'schedules');
  return repo;
}

interface StartFigures {
  readySeconds: number;
  /** CPU time of serve's process until ready, all its threads (the manifest check threads too). */
  cpuSecondsToReady: number;
  peakRssMb: number;
  rssAfterReadyMb: number;
  cacheHit: boolean;
}

/** utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux). */
const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const statusKb = (pid: number, field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** One start of serve until ready, its peak RSS then and a second later, and a clean stop. */
async function startOnce(repo: string, config: string, dataDir: string): Promise<StartFigures> {
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [
      ...nodeArgs,
      BIN,
      '--config',
      config,
      '--data-dir',
      dataDir,
      'serve',
      '--repo',
      repo,
      '--ref',
      'main',
      '--poll-interval',
      '1h',
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`serve exited early (${proc.exitCode}):\n${output}`);
      if (performance.now() - started > READY_DEADLINE_MS) throw new Error(`serve was not ready:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      await sleep(READY_POLL_MS);
    }
    const readySeconds = (performance.now() - started) / 1000;
    const cpuSecondsToReady = cpuSeconds(proc.pid!);
    await sleep(1000);
    // BENCH_HEAP_SNAPSHOT=1 with BENCH_NODE_ARGS=--heapsnapshot-signal=SIGUSR2: a snapshot once ready.
    if (process.env.BENCH_HEAP_SNAPSHOT) {
      proc.kill('SIGUSR2');
      await sleep(Number(process.env.BENCH_HEAP_SNAPSHOT_WAIT_MS ?? 20_000));
    }
    const figures = {
      readySeconds: round(readySeconds, 2),
      cpuSecondsToReady: round(cpuSecondsToReady, 2),
      peakRssMb: round(statusKb(proc.pid!, 'VmHWM') / 1024, 1),
      rssAfterReadyMb: round(statusKb(proc.pid!, 'VmRSS') / 1024, 1),
      cacheHit: /validated revision cache hit/.test(output),
    };
    if (!/"outcome":"applied"|applied revision|unchanged/.test(output) && !figures.cacheHit)
      console.log(`  (serve said: ${output.slice(-400)})`);
    return figures;
  } finally {
    proc.kill('SIGTERM');
    await exited;
    // BENCH_SERVE_LOG=<file prefix>: serve's output (e.g. with BENCH_NODE_ARGS=--trace-gc) for a look after.
    if (process.env.BENCH_SERVE_LOG) writeFileSync(`${process.env.BENCH_SERVE_LOG}-${++starts}.log`, output);
  }
}

async function main(): Promise<void> {
  const kept = process.env.BENCH_DIR;
  const dir = kept ? path.resolve(kept) : tempDir('serve-schedules');
  const reused = kept !== undefined && existsSync(path.join(dir, 'repo', '.git'));
  const built = performance.now();
  const repo = reused ? path.join(dir, 'repo') : makeRepo(dir);
  if (!reused)
    console.log(`  repo of ${SCHEDULES} schedules made in ${round((performance.now() - built) / 1000, 1)} s`);
  const config = path.join(dir, 'taskops.config.yaml');
  writeFileSync(config, stringify({ drivers: { jobs: { type: 'noop', actions: { ok: ['unused'] } } } }));
  const dataDir = path.join(dir, 'data');
  const first = reused && existsSync(dataDir) ? null : await startOnce(repo, config, dataDir);
  console.log(`  first start: ${first ? JSON.stringify(first) : 'skipped (BENCH_DIR already synced)'}`);
  const restarts: StartFigures[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    restarts.push(await startOnce(repo, config, dataDir));
    console.log(`  restart:     ${JSON.stringify(restarts.at(-1))}`);
  }
  const byReady = [...restarts].sort((a, b) => a.readySeconds - b.readySeconds);
  const restart = byReady[Math.floor((byReady.length - 1) / 2)]!;
  printResult('serve-schedules', { schedules: SCHEDULES, first, restart }, [
    ...(first
      ? [
          goal('first start ready', first.readySeconds, '<=', 5, ' s'),
          goal('first start peak RSS', first.peakRssMb, '<=', 200, ' MB'),
        ]
      : []),
    goal('restart ready', restart.readySeconds, '<=', 5, ' s'),
    goal('restart peak RSS', restart.peakRssMb, '<=', 200, ' MB'),
  ]);
}

await main();
