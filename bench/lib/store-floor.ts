/**
 * The engine bench's floor, run in its own process (`node --import tsx bench/lib/store-floor.ts N`): the
 * store's own statements for N noop runs, with no engine around them, one commit per run — the figure the
 * issue measured at about 9,500 runs/s on this machine. Each run: its event stored, the run stored queued,
 * claimed, finished, the event marked processed, and the run's `tasks/succeeded` event stored processed
 * (the floor stores one event per run where the engine shares an event among 1.9 runs: a little more work).
 * Prints one JSON line: {runs, seconds, runsPerSec, runsPerCpuSec}.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { causedRunId, newEventId } from '../../src/engine/runs/ids.js';
import { ActivityTables } from '../../src/store/activity.js';
import { openStore } from '../../src/store/index.js';
import type { EngineEvent } from '../../src/store/types.js';
import { runRecord } from '../../test/helpers/runs.js';
import { tempDir } from './tempdir.js';

const RUNS = Number(process.argv[2] ?? 5600);
const OWNER = 'floor/1';

const dataDir = path.join(tempDir('floor'), 'data');
// The real schema, made by the store's migrations; then the same connection settings as the store's.
await (await openStore(dataDir)).close();
const db = new Database(path.join(dataDir, 'taskops.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const tables = new ActivityTables(db);

function event(now: Date, j: number, type = 'users', name = `n${j % 50}`): EngineEvent {
  return {
    id: newEventId(now),
    type,
    name,
    object: `obj-${j % 20}`,
    fields: { severity: 'info', seq: j },
    at: now.toISOString(),
    origin: type === 'tasks' ? 'engine' : 'external',
  };
}

const oneRun = db.transaction((j: number) => {
  const now = new Date();
  const at = now.toISOString();
  const cause = event(now, j);
  tables.addEvent(cause);
  const run = runRecord(causedRunId(cause.at, cause.id, `task-${j % 200}`, null), {
    task: `task-${j % 200}`,
    trigger: { kind: 'event', name: `trigger-${j % 200}`, event: cause.id },
    target: { objectType: 'jobs', name: `job-${j % 200}` },
    queuedAt: at,
  });
  tables.insertRun(run);
  tables.claimRun(run.runId, 'queued', {
    owner: OWNER,
    at: now,
    leaseUntil: new Date(now.getTime() + 30_000),
    delivery: null,
  });
  tables.finishRun(run.runId, OWNER, {
    status: 'succeeded',
    at: now,
    durationMs: 0,
    attempt: { attempt: 1, at, durationMs: 0, outcome: 'succeeded' },
    error: null,
    details: null,
    acted: true,
  });
  tables.markEventProcessed(cause.id, at);
  tables.addEvent(event(now, j, 'tasks', 'succeeded'), at);
});

// Warm-up, as the engine bench has.
for (let j = 0; j < 200; j++) oneRun.immediate(j);
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (let j = 200; j < 200 + RUNS; j++) oneRun.immediate(j);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
db.close();
console.log(
  JSON.stringify({
    runs: RUNS,
    seconds: Math.round(seconds * 1000) / 1000,
    runsPerSec: Math.round(RUNS / seconds),
    runsPerCpuSec: Math.round(RUNS / ((cpu.user + cpu.system) / 1e6)),
  }),
);
