/**
 * Events through matching and runs on a noop driver, on a real SQLite store: (a) throughput of a burst of
 * events, (b) event → run-start latency at a steady rate below capacity, (c) heap after.
 * Beside it, its floor in a process of its own (bench/lib/store-floor.ts: the store's statements, one commit per run).
 * Run: npx tsx bench/engine.bench.ts
 * Env: BENCH_TRIGGERS (default 200), BENCH_EVENTS (burst, default 3000), BENCH_STEADY_EVENTS (default 1000),
 *      BENCH_STEADY_SHARE (steady rate as a share of the burst throughput, default 0.5), BENCH_ROUNDS (bursts,
 *      each followed by its steady phase; default 3: the figures are the medians).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEngine, type BenchEngine } from './lib/engine-fixture.js';
import { ENGINE_CONFIG, eventAt, eventWorld } from './lib/event-mix.js';
import { goal, printResult } from './lib/report.js';
import { heapUsedMb, percentile, round, rssMb } from './lib/stats.js';

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 200);
const BURST_EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const STEADY_EVENTS = Number(process.env.BENCH_STEADY_EVENTS ?? 1000);
const STEADY_SHARE = Number(process.env.BENCH_STEADY_SHARE ?? 0.5);
/** Submitters of the concurrent burst (events in flight at once, as from that many HTTP clients). */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
/** Bursts, each followed by its steady phase; the figures are their medians. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/** The middle element by `key` (the lower middle for an even count). */
function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  return [...items].sort((x, y) => key(x) - key(y))[Math.floor((items.length - 1) / 2)]!;
}

/** The floor (bench/lib/store-floor.ts) in a process of its own: the store's statements for `runs` runs, one commit each. */
function storeFloor(runs: number): { runsPerSec: number; runsPerCpuSec: number } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'store-floor.ts');
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, String(runs)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { runsPerSec: number; runsPerCpuSec: number };
}

interface Phase {
  events: number;
  runs: number;
  ms: number;
  /** CPU of the whole process (engine thread and the checkpoint worker) during the phase. */
  cpuMs: number;
  /** Submit → driver call, per run caused by an event of this phase. */
  latencies: number[];
  /** Pauses of the young-generation collections (scavenges) during the phase, ms. */
  scavengePausesMs: number[];
}

/** Young-generation pauses from now on, until stopped: a run that meets one waits for it. */
function watchScavenges(): () => number[] {
  const pauses: number[] = [];
  const take = (entries: PerformanceEntry[]) => {
    for (const entry of entries as Array<PerformanceEntry & { detail?: { kind?: number } }>)
      if (entry.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) pauses.push(entry.duration);
  };
  const observer = new PerformanceObserver((list) => take(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    take(observer.takeRecords());
    observer.disconnect();
    return pauses;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submits events from `first` on, paced `intervalMs` apart (0: as fast as the store takes them), by `clients`
 * submitters each waiting for its event to be stored before the next (as many HTTP clients would), until idle.
 */
async function phase(
  b: BenchEngine,
  first: number,
  count: number,
  intervalMs: number,
  clients = 1,
): Promise<Phase> {
  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  // A run can end before its submitter hears that its event is stored: its latency is taken at the end.
  const early: Array<[event: string, startedAt: number]> = [];
  let runs = 0;
  b.observeRuns((run, startedAt) => {
    if (!run.event) return;
    const t0 = submittedAt.get(run.event);
    if (t0 === undefined) return void early.push([run.event, startedAt]);
    runs++;
    latencies.push(startedAt - t0);
  });
  const started = performance.now();
  const stopWatching = watchScavenges();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const client = async () => {
    for (let j = next++; j < count; j = next++) {
      if (intervalMs > 0) {
        const due = started + j * intervalMs;
        const wait = due - performance.now();
        if (wait >= 1) await sleep(wait);
      }
      const t0 = performance.now();
      const event = await b.engine.submitEvent(eventAt(first + j));
      submittedAt.set(event.id, t0);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  await b.engine.whenIdle();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  b.observeRuns(null);
  for (const [event, startedAt] of early) {
    const t0 = submittedAt.get(event);
    if (t0 === undefined) continue; // a run of an earlier phase's event
    runs++;
    latencies.push(startedAt - t0);
  }
  latencies.sort((x, y) => x - y);
  return { events: count, runs, ms, cpuMs, latencies, scavengePausesMs: stopWatching() };
}

/** Transactions of the SQLite store's group commit so far (0 for a store without one). */
function commitsOf(store: BenchEngine['store']): number {
  const stats = (store as { groupCommitStats?: () => { commits: number } }).groupCommitStats;
  return stats ? stats.call(store).commits : 0;
}

function summary(p: Phase) {
  return {
    events: p.events,
    runs: p.runs,
    seconds: round(p.ms / 1000, 2),
    eventsPerSec: Math.round(p.events / (p.ms / 1000)),
    runsPerSec: Math.round(p.runs / (p.ms / 1000)),
    // On a shared machine the wall time includes waiting for a core; runs per CPU second does not.
    runsPerCpuSec: Math.round(p.runs / (p.cpuMs / 1000)),
    latencyP50Ms: round(percentile(p.latencies, 50), 2),
    latencyP99Ms: round(percentile(p.latencies, 99), 2),
    latencyMaxMs: round(p.latencies[p.latencies.length - 1] ?? NaN, 2),
    scavenges: p.scavengePausesMs.length,
    scavengeMeanMs: round(
      p.scavengePausesMs.reduce((a, b) => a + b, 0) / (p.scavengePausesMs.length || 1),
      2,
    ),
    scavengeMaxMs: round(Math.max(0, ...p.scavengePausesMs), 2),
  };
}

async function main(): Promise<void> {
  // The floor before and after the engine's figures, so both see the same machine.
  const floorBefore = storeFloor(BURST_EVENTS * 2);
  console.log(`  floor (store statements, one commit per run): ${JSON.stringify(floorBefore)}`);
  const heapBefore = heapUsedMb();
  // Capacity is measured here, not admission: no back-pressure bound in the way.
  const b = await benchEngine(eventWorld(TRIGGERS), { ...ENGINE_CONFIG, maxPendingWork: 10_000_000 });
  const heapLoaded = heapUsedMb();
  // A short warm-up so the burst measures steady code, not the JIT.
  await phase(b, 0, 200, 0);

  // One submitter, each event stored before the next (the figure this bench always gave), then CLIENTS at once.
  let next = 200;
  const sequential = summary(await phase(b, next, BURST_EVENTS, 0));
  next += BURST_EVENTS;
  console.log(`  burst, one submitter: ${JSON.stringify(sequential)}`);
  // ROUNDS of a burst and a steady phase at half that burst's rate: the figures are the medians, so one
  // burst that met a busy moment of a shared machine (or a quiet one) does not decide.
  const bursts: Array<ReturnType<typeof summary>> = [];
  const steadies: Array<ReturnType<typeof summary> & { rate: number }> = [];
  const commitsBefore = commitsOf(b.store);
  const callsBeforeBurst = { ...b.storeCalls };
  for (let round = 1; round <= ROUNDS; round++) {
    const burst = summary(await phase(b, next, BURST_EVENTS, 0, CLIENTS));
    next += BURST_EVENTS;
    console.log(`  burst ${round}, ${CLIENTS} submitters: ${JSON.stringify(burst)}`);
    const rate = Math.max(1, burst.eventsPerSec * STEADY_SHARE);
    const steady = summary(await phase(b, next, STEADY_EVENTS, 1000 / rate, CLIENTS));
    next += STEADY_EVENTS;
    console.log(`  steady ${round} at ${Math.round(rate)} events/s: ${JSON.stringify(steady)}`);
    bursts.push(burst);
    steadies.push({ ...steady, rate });
  }
  const allRuns = [...bursts, ...steadies].reduce((n, p) => n + p.runs, 0);
  const storeCallsPerRun = Object.fromEntries(
    Object.entries(b.storeCalls)
      .map(([k, n]) => [k, round((n - (callsBeforeBurst[k] ?? 0)) / allRuns, 2)] as const)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1]),
  );
  const commitsPerRun = round((commitsOf(b.store) - commitsBefore) / allRuns, 3);
  const burst = medianBy(bursts, (p) => p.runsPerSec);
  const steady = medianBy(steadies, (p) => p.latencyP99Ms);
  const rate = steady.rate;

  const statuses = b.statuses;
  const heapAfter = heapUsedMb();
  const rss = rssMb();
  const storeFile = path.join(b.dataDir, 'taskops.db');
  const walFile = `${storeFile}-wal`;
  const sizeMb = (f: string) => {
    try {
      return statSync(f).size / 1024 / 1024;
    } catch {
      return 0;
    }
  };
  const storeMb = sizeMb(storeFile) + sizeMb(walFile);
  await b.close();
  const floorAfter = storeFloor(BURST_EVENTS * 2);
  console.log(`  floor again: ${JSON.stringify(floorAfter)}`);
  const floorRunsPerSec = Math.round((floorBefore.runsPerSec + floorAfter.runsPerSec) / 2);
  const floorRunsPerCpuSec = Math.round((floorBefore.runsPerCpuSec + floorAfter.runsPerCpuSec) / 2);

  printResult(
    'engine',
    {
      triggers: TRIGGERS,
      tasks: TRIGGERS,
      clients: CLIENTS,
      sequentialRunsPerSec: sequential.runsPerSec,
      sequentialLatencyP99Ms: sequential.latencyP99Ms,
      rounds: ROUNDS,
      burstRunsPerSecEach: bursts.map((p) => p.runsPerSec),
      steadyLatencyP99MsEach: steadies.map((p) => p.latencyP99Ms),
      burstEvents: burst.events,
      burstRuns: burst.runs,
      eventsPerSec: burst.eventsPerSec,
      runsPerSec: burst.runsPerSec,
      runsPerCpuSec: burst.runsPerCpuSec,
      floorRunsPerSec,
      floorRunsPerCpuSec,
      ratioToFloor: round(burst.runsPerSec / floorRunsPerSec, 2),
      cpuRatioToFloor: round(burst.runsPerCpuSec / floorRunsPerCpuSec, 2),
      burstLatencyP50Ms: burst.latencyP50Ms,
      burstLatencyP99Ms: burst.latencyP99Ms,
      steadyRatePerSec: Math.round(rate),
      steadyEvents: steady.events,
      steadyRuns: steady.runs,
      latencyP50Ms: steady.latencyP50Ms,
      latencyP99Ms: steady.latencyP99Ms,
      latencyMaxMs: steady.latencyMaxMs,
      steadyScavengesEach: steadies.map((p) => p.scavenges),
      steadyScavengeMeanMsEach: steadies.map((p) => p.scavengeMeanMs),
      runStatuses: statuses,
      storeCallsPerRun,
      groupCommitsPerRun: commitsPerRun,
      heapUsedMb: round(heapAfter),
      heapGrowthMb: round(heapAfter - heapBefore),
      heapOfLoadedEngineMb: round(heapLoaded - heapBefore),
      rssMb: round(rss),
      storeMb: round(storeMb),
    },
    [
      goal('runsPerSec', burst.runsPerSec, '>=', 10_000, ' runs/s'),
      goal('steadyLatencyP99Ms', steady.latencyP99Ms, '<=', 5, ' ms'),
    ],
  );
}

await main();
