/**
 * Noop runs/s with 1, 2 and 3 engine replicas on one PostgreSQL, the single engine on SQLite, and the floor:
 * the same transactions per run issued by a bare `pg` pool in its own process. Each replica is its own
 * process (bench/lib/replica-worker.ts) submitting its share of the events; the figure is all runs over
 * the wall time from "go" to the last replica done. PostgreSQL runs with fsync on and synchronous_commit
 * off (a crash loses at most the last commits, never consistency: what SQLite's WAL + NORMAL gives).
 * Run: npx tsx bench/replicas.bench.ts        Env: BENCH_EVENTS (per configuration, default 3000)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { loadEngineConfig, driverCatalog } from '../src/config/index.js';
import { reconcileOnce } from '../src/reconcile/index.js';
import { FolderSource } from '../src/source/index.js';
import { openSelectedStore } from '../src/store/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { printResult } from './lib/report.js';
import { round } from './lib/stats.js';
import { tempDir } from './lib/tempdir.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const CONFIG = {
  maxConcurrentRuns: 8,
  drivers: { jobs: { type: 'noop', actions: { ok: ['unused'] } } },
};
const manifest = (kind: string, name: string, spec: Record<string, unknown>) =>
  stringify({ apiVersion: 'taskops/v1', kind, metadata: { name }, spec });

interface WorkerResult {
  runs: number;
  ms: number;
  storeCallsPerRun?: Record<string, number>;
}

function spawnWorker(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench/lib', script)], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve) => lines.on('line', (l) => l === 'ready' && resolve()));
  const result = new Promise<WorkerResult>((resolve, reject) => {
    lines.on('line', (l) => l.startsWith('{') && resolve(JSON.parse(l) as WorkerResult));
    child.on('exit', (code) => code !== 0 && reject(new Error(`${script} exited ${code}`)));
  });
  return { child, ready, result };
}

const dir = tempDir('replicas');
const manifests = path.join(dir, 'manifests');
mkdirSync(manifests);
writeFileSync(
  path.join(manifests, 'm.yaml'),
  [
    manifest('Task', 'ping', {
      objectType: 'jobs',
      action: 'ok',
      target: { name: 'job' },
      concurrency: 'allow',
    }),
    manifest('EventTrigger', 'on-ping', { event: { type: 'bench', name: 'ping' }, tasks: ['ping'] }),
  ].join('---\n'),
);
const configFile = path.join(dir, 'taskops.config.yaml');
writeFileSync(configFile, stringify(CONFIG));
const resolved = loadEngineConfig(configFile, {});

async function prepare(where: { dataDir: string; url: string | null }): Promise<void> {
  const store = await openSelectedStore(where);
  const outcome = await reconcileOnce(
    new FolderSource(manifests),
    store,
    { now: () => new Date() },
    {
      dataDir: where.dataDir,
      mode: 'apply',
      record: true,
      load: { driverCatalog: driverCatalog(resolved.config) },
    },
  );
  await store.close();
  if (!outcome.ok) throw new Error(outcome.message ?? outcome.reason);
}

/** `replicas` engine processes on `storeFor(i)`, EVENTS shared among them: runs/s over the wall time. */
async function engines(replicas: number, target: string, dataDir: string) {
  const workers = Array.from({ length: replicas }, (_, i) =>
    spawnWorker('replica-worker.ts', {
      BENCH_STORE: target,
      BENCH_EVENTS: String(Math.ceil(EVENTS / replicas)),
      BENCH_REPLICA: `r${i + 1}`,
      BENCH_CONFIG: configFile,
      BENCH_DATA_DIR: dataDir,
    }),
  );
  await Promise.all(workers.map((w) => w.ready));
  const started = performance.now();
  for (const w of workers) w.child.stdin!.write('go\n');
  const results = await Promise.all(workers.map((w) => w.result));
  const ms = performance.now() - started;
  const runs = results.reduce((sum, r) => sum + r.runs, 0);
  return {
    runs,
    runsPerSecond: round((runs / ms) * 1000, 0),
    storeCallsPerRun: results[0]!.storeCallsPerRun,
  };
}

const pgServer = await startPostgres({ postgresFlags: ['-c', 'synchronous_commit=off'] });
try {
  const figures: Record<string, unknown> = { events: EVENTS };
  for (const n of [1, 2, 3]) {
    const url = await pgServer.freshDatabase();
    const dataDir = path.join(dir, `pg-${n}`);
    await prepare({ dataDir, url });
    const r = await engines(n, url, dataDir);
    figures[`postgres${n}RunsPerSecond`] = r.runsPerSecond;
    if (n === 1) figures.storeCallsPerRun = r.storeCallsPerRun;
    console.log(`postgres, ${n} replica(s): ${r.runs} runs, ${r.runsPerSecond} runs/s`);
  }
  const sqliteDir = path.join(dir, 'sqlite');
  await prepare({ dataDir: sqliteDir, url: null });
  const sqlite = await engines(1, sqliteDir, sqliteDir);
  figures.sqliteRunsPerSecond = sqlite.runsPerSecond;
  console.log(`sqlite, 1 engine: ${sqlite.runs} runs, ${sqlite.runsPerSecond} runs/s`);

  const floorUrl = await pgServer.freshDatabase();
  await prepare({ dataDir: path.join(dir, 'floor'), url: floorUrl });
  const floor = spawnWorker('pg-floor-worker.ts', { BENCH_STORE: floorUrl, BENCH_EVENTS: String(EVENTS) });
  const f = await floor.result;
  figures.bareClientRunsPerSecond = round((f.runs / f.ms) * 1000, 0);
  console.log(`bare pg client, same transactions: ${figures.bareClientRunsPerSecond} runs/s`);
  printResult('replicas', figures);
} finally {
  await pgServer.stop();
}
