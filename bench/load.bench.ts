/**
 * `taskops serve` with 200 event triggers on the noop driver, under twice its capacity for 30 s, from the
 * external load client (its own process).  First its capacity: what it accepts per second from the
 * load client in open-loop steps. Then an open loop at twice that. Reports events accepted (202) and refused (429),
 * event → run start of the accepted events (stored `events.at` → `runs.started_at`), serve's peak RSS, and
 * how long after the load the queue is empty (taskops_pending_work 0).
 * Run: npx tsx bench/load.bench.ts   Env: BENCH_LOAD_SECONDS (default 30), BENCH_TRIGGERS (default 200).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { startServe } from '../test/helpers/serve-process.js';
import { ENGINE_CONFIG, eventAt, eventWorld } from './lib/event-mix.js';
import { runLoad } from './lib/processes.js';
import { rssMbOf } from './lib/processes.js';
import { goal, printResult } from './lib/report.js';
import { percentile, round } from './lib/stats.js';
import { tempDir } from './lib/tempdir.js';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
/** Connections of the load client: enough that it can offer twice what serve accepts (each waits for its answer); below serve's connection cap (256). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 200);
const TOKEN = 'bench-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pendingWork(url: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).text();
  return Number(/^taskops_pending_work (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const dir = tempDir('load');
  const manifests = path.join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  for (const [name, text] of Object.entries(eventWorld(TRIGGERS)))
    writeFileSync(path.join(manifests, name), text);
  const config = path.join(dir, 'taskops.config.yaml');
  writeFileSync(config, stringify(ENGINE_CONFIG));
  const dataDir = path.join(dir, 'data');
  const serve = await startServe({
    globalArgs: ['--config', config, '--data-dir', dataDir],
    serveArgs: [manifests],
    // BENCH_MAX_PENDING_WORK tries another bound; without it, serve's default.
    env: {
      TASKOPS_API_TOKEN: TOKEN,
      ...(process.env.BENCH_MAX_PENDING_WORK
        ? { TASKOPS_MAX_PENDING_WORK: process.env.BENCH_MAX_PENDING_WORK }
        : {}),
    },
    logLevel: 'info',
  });
  const pid = serve.proc.pid!;
  const bodies = Array.from({ length: 200 }, (_, j) => JSON.stringify(eventAt(j)));
  const load = (extra: { durationMs: number; rate?: number; collectIds?: boolean }) =>
    runLoad({
      url: `${serve.url}/api/v1/events`,
      bodies,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      connections: CONNECTIONS,
      ...extra,
    });
  try {
    const rssBefore = rssMbOf(pid);
    // Capacity: open-loop steps of 3 s, doubling, until a tenth is refused; the most accepted per second.
    // (A closed loop would measure refusals: answering 429s as fast as they come takes the engine's CPU.)
    let capacity = 0;
    for (let rate = 250; rate <= 64_000; rate *= 2) {
      const step = await load({ durationMs: 3000, rate });
      const ok = step.statuses['202'] ?? 0;
      capacity = Math.max(capacity, ok / step.seconds);
      console.log(`  step ${rate}/s: ${JSON.stringify(step.statuses)}`);
      if (ok < 0.9 * step.sent) break;
      for (let i = 0; i < 100 && (await pendingWork(serve.url)) > 0; i++) await sleep(100);
    }
    console.log(`  capacity: ${Math.round(capacity)} events/s accepted`);
    // Let the probe's backlog drain before the timed load.
    for (let i = 0; i < 100 && (await pendingWork(serve.url)) > 0; i++) await sleep(100);

    let peakRss = rssMbOf(pid);
    const watch = setInterval(() => (peakRss = Math.max(peakRss, rssMbOf(pid))), 200);
    const offered = Math.round(2 * capacity);
    const result = await load({ durationMs: SECONDS * 1000, rate: offered, collectIds: true });
    const ended = performance.now();
    let emptyAfterMs = NaN;
    for (let i = 0; i < 300; i++) {
      if ((await pendingWork(serve.url)) === 0) {
        emptyAfterMs = performance.now() - ended;
        break;
      }
      await sleep(50);
    }
    clearInterval(watch);
    const accepted = result.statuses['202'] ?? 0;
    const refused = result.statuses['429'] ?? 0;
    console.log(
      `  offered ${offered}/s for ${SECONDS}s, sent ${Math.round(result.sent / result.seconds)}/s: ${JSON.stringify(result.statuses)}, ${result.errors} errors`,
    );
    // Let the last runs finish so every accepted event's runs have started.
    await sleep(1000);
    await serve.kill('SIGTERM');

    const db = new Database(path.join(dataDir, 'taskops.db'), { readonly: true });
    const ids = new Set(result.acceptedIds);
    const rows = db
      .prepare(
        `SELECT e.id AS id, e.at AS at, r.started_at AS started FROM runs r JOIN events e ON r.trigger_event = e.id
         WHERE r.started_at IS NOT NULL`,
      )
      .all() as Array<{ id: string; at: string; started: string }>;
    db.close();
    const latencies = rows
      .filter((r) => ids.has(r.id))
      .map((r) => Date.parse(r.started) - Date.parse(r.at))
      .sort((a, b) => a - b);
    // The tail by second of acceptance: a stall shows as one bad second, a slow drain as a rising line.
    const bySecond = new Map<number, number[]>();
    // A loop, not Math.min(...): a spread of 150,000 arguments overflows the stack.
    let firstAt = Infinity;
    for (const r of rows) if (ids.has(r.id)) firstAt = Math.min(firstAt, Date.parse(r.at));
    for (const r of rows.filter((x) => ids.has(x.id))) {
      const sec = Math.floor((Date.parse(r.at) - firstAt) / 1000);
      const waits = bySecond.get(sec) ?? [];
      waits.push(Date.parse(r.started) - Date.parse(r.at));
      bySecond.set(sec, waits);
    }
    console.log(
      '  max wait by second of acceptance (ms): ' +
        [...bySecond.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([sec, l]) => `${sec}:${l.reduce((a, b) => Math.max(a, b), 0)}`)
          .join(' '),
    );
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    printResult(
      'load',
      {
        triggers: TRIGGERS,
        seconds: SECONDS,
        capacityEventsPerSec: Math.round(capacity),
        offeredEventsPerSec: offered,
        // What the client managed to send: each connection waits for its answer, so a slow server lowers it.
        sentEventsPerSec: Math.round(result.sent / result.seconds),
        acceptedEventsPerSec: Math.round(accepted / result.seconds),
        accepted,
        refused,
        otherStatuses: result.sent - accepted - refused,
        errors: result.errors,
        runsOfAcceptedEvents: latencies.length,
        eventToRunStartP50Ms: p50,
        eventToRunStartP99Ms: p99,
        rssBeforeMb: round(rssBefore),
        peakRssMb: round(peakRss),
        queueEmptyAfterMs: Math.round(emptyAfterMs),
        clientCpuSeconds: result.cpuSeconds,
      },
      [
        goal('eventToRunStartP99Ms', p99, '<=', 1000, ' ms'),
        goal('peakRssMb', round(peakRss), '<=', 300, ' MB'),
        goal('queueEmptyAfterMs', Math.round(emptyAfterMs), '<=', 5000, ' ms'),
      ],
    );
  } finally {
    await serve.kill('SIGTERM');
  }
}

await main();
