import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  ManualClock,
  readTaskLogs,
  TaskLogWriter,
  type Engine,
} from '../../src/engine/index.js';
import type { RunRecord, RunStatus } from '../../src/store/types.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { runRecord } from '../helpers/runs.js';
import { keptAudits } from '../helpers/audit.js';

let fixture: EngineFixture | undefined;
let second: Engine | undefined;
afterEach(async () => {
  await second?.stop(1000);
  await fixture?.close();
  fixture = second = undefined;
});

const CONFIG = { drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } } };
const MANIFESTS = {
  'm.yaml': docs(
    doc('Schedule', 'hourly', { cron: '0 * * * *' }),
    doc('Task', 't', { objectType: 'jobs', target: { name: 'job-1' }, action: 'ok', schedules: ['hourly'] }),
    doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['t'] }),
  ),
};

/** A manual run of task t as a crashed or older engine left it in the store. */
function manualRun(
  runId: string,
  status: RunStatus,
  startedAt: string,
  done: Partial<RunRecord> = {},
): RunRecord {
  return runRecord(runId, {
    task: 't',
    status,
    target: { objectType: 'jobs', name: 'job-1' },
    queuedAt: startedAt,
    startedAt,
    ...done,
  });
}

/** A second engine on the same data dir, as after a restart. */
async function restart(f: EngineFixture, now: string): Promise<Engine> {
  await f.engine.stop(1000);
  const engine = createEngine({
    store: f.store,
    dataDir: f.dataDir,
    config: f.config,
    clock: new ManualClock(now),
  });
  await engine.start();
  await engine.whenIdle();
  return engine;
}

describe('shutdown', () => {
  it('leaves runs that had not started queued in the store, and runs them at the next start', async () => {
    const config = {
      maxConcurrentRuns: 1,
      drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'setTimeout(() => {}, 400)'] } } },
    };
    const manifests = {
      'm.yaml': doc('Task', 't', {
        objectType: 'jobs',
        target: { name: 'job-1' },
        action: 'ok',
        concurrency: 'allow',
      }),
    };
    fixture = await engineFixture({ config, manifests, now: '2026-11-23T12:10:00Z' });
    await fixture.engine.runTask('t');
    await fixture.engine.runTask('t');
    await fixture.engine.runTask('t');
    await fixture.engine.stop(100);
    const queued = await fixture.store.listRuns({ status: ['queued'] });
    expect(queued.length).toBeGreaterThanOrEqual(1);
    expect(readTaskLogs(fixture.dataDir).filter((l) => l.status === 'skipped')).toEqual([]);
    second = await restart(fixture, '2026-11-23T12:11:00Z');
    expect(await fixture.store.listRuns({ status: ['queued', 'running'] })).toEqual([]);
    for (const run of queued) expect((await fixture.store.getRun(run.runId))!.status).toBe('succeeded');
  });
});

describe('retention', () => {
  it('deletes task-log files and finished runs older than retention.days at start', async () => {
    fixture = await engineFixture({
      config: { ...CONFIG, retention: { days: 7 } },
      manifests: MANIFESTS,
      now: '2026-11-23T12:00:00Z',
    });
    const logs = path.join(fixture.dataDir, 'logs');
    writeFileSync(path.join(logs, 'runs-2026-11-01.jsonl'), '{}\n');
    writeFileSync(path.join(logs, 'runs-2026-11-20.jsonl'), '{}\n');
    await fixture.store.insertRun(
      manualRun('run_old', 'succeeded', '2026-11-01T00:00:00.000Z', {
        finishedAt: '2026-11-01T00:00:01.000Z',
        durationMs: 1000,
        attempts: 1,
      }),
    );
    second = await restart(fixture, '2026-11-23T12:00:00Z');
    expect(
      readdirSync(logs)
        .filter((f) => f.startsWith('runs-'))
        .sort(),
    ).toEqual(['runs-2026-11-20.jsonl']);
    expect(await fixture.store.getRun('run_old')).toBeUndefined();
  });
});

describe('after a crash or downtime', () => {
  it('records a run that was in flight as interrupted and retries it', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    await fixture.store.insertRun(manualRun('run_cut_off', 'running', '2026-11-23T12:09:01.000Z'));
    second = await restart(fixture, '2026-11-23T12:11:00Z');
    const logs = readTaskLogs(fixture.dataDir);
    // The same run, a second attempt: attempts are data on the run, not new run ids.
    expect(logs.map((l) => [l.runId, l.status, l.attempts])).toEqual([
      ['run_cut_off', 'interrupted', 0],
      ['run_cut_off', 'succeeded', 1],
    ]);
    expect(await fixture.store.getRun('run_cut_off')).toMatchObject({
      status: 'succeeded',
      interruptions: 1,
      attemptLog: [
        expect.objectContaining({ outcome: 'interrupted' }),
        expect.objectContaining({ attempt: 1, outcome: 'succeeded' }),
      ],
    });
  });

  it('writes the task-log line of a run whose end was stored just before a crash, once, a lease after its end', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    const ended = (runId: string, finishedAt: string) =>
      manualRun(runId, 'succeeded', '2026-11-23T12:09:00.000Z', { finishedAt, durationMs: 5, attempts: 1 });
    // Stored ended, then the engine died: no line (lost), a line but no mark (written), or too recent to tell.
    const lost = ended('run_lost', '2026-11-23T12:09:01.000Z');
    const written = ended('run_written', '2026-11-23T12:09:02.000Z');
    const recent = ended('run_recent', '2026-11-23T12:10:55.000Z');
    await fixture.store.insertRuns([lost, written, recent]);
    const writer = new TaskLogWriter(fixture.dataDir);
    writer.append(written);
    writer.close();

    const clock = new ManualClock('2026-11-23T12:11:00Z');
    await fixture.engine.stop(1000);
    second = createEngine({ store: fixture.store, dataDir: fixture.dataDir, config: fixture.config, clock });
    await second.start();
    await second.whenIdle();
    const ids = () => readTaskLogs(fixture!.dataDir).map((l) => `${l.runId} ${l.status}`);
    expect(ids()).toEqual(['run_written succeeded', 'run_lost succeeded']);
    // A lease (15 s) after its end, the next recovery tick writes the recent one too.
    for (let tick = 0; tick < 4; tick++) {
      clock.advanceBy(5_000);
      await second.whenIdle();
    }
    expect(ids()).toEqual(['run_written succeeded', 'run_lost succeeded', 'run_recent succeeded']);
    expect(readTaskLogs(fixture.dataDir).find((l) => l.runId === 'run_lost')).toMatchObject({
      finishedAt: '2026-11-23T12:09:01.000Z',
      attempts: 1,
    });
    // Every end is marked now: nothing is left for a later sweep.
    expect(await fixture.store.logUnlogged(new Date('2027-01-01T00:00:00Z'), 10, () => undefined)).toBe(0);
  });

  /** A retirement of task t at `at` committed with its audit line kept, as a process that died left it. */
  const keptRetirement = async (f: EngineFixture, at: string) => {
    const line = {
      at,
      revision: 'r1',
      action: 'delete' as const,
      kind: 'Task',
      name: 't',
      reason: 'deleteAfterRun',
    };
    await f.store.retireTask('t', new Date(at), { id: `retire-${at}`, entries: [line] });
    return line;
  };
  /** The retirement lines of the data dir's audit files. */
  const retirementLines = (f: EngineFixture) =>
    readdirSync(path.join(f.dataDir, 'logs'))
      .filter((file) => file.startsWith('audit-'))
      .flatMap((file) => readFileSync(path.join(f.dataDir, 'logs', file), 'utf8').split('\n'))
      .filter((l) => l.includes('deleteAfterRun'))
      .map((l) => JSON.parse(l) as unknown);

  it('appends at start the audit line of a retirement committed just before a crash', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    const line = await keptRetirement(fixture, '2026-11-23T12:09:30.000Z');
    expect(retirementLines(fixture)).toEqual([]);
    second = await restart(fixture, '2026-11-23T12:11:00Z');
    expect(retirementLines(fixture)).toEqual([line]);
    expect(await keptAudits(fixture.store)).toEqual([]);
  });

  it('leaves a change committed moments ago to its own writer, and appends it in a sweep once it settled', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    // Another process committed this retirement 5 s before the restart and may still be appending its line.
    const line = await keptRetirement(fixture, '2026-11-23T12:10:55.000Z');
    const clock = new ManualClock('2026-11-23T12:11:00Z');
    await fixture.engine.stop(1000);
    second = createEngine({ store: fixture.store, dataDir: fixture.dataDir, config: fixture.config, clock });
    await second.start();
    await second.whenIdle();
    expect(retirementLines(fixture)).toEqual([]);
    // Its writer never came back: 15 s after its commit the recovery sweep (every 5 s) appends it, once.
    for (let tick = 0; tick < 4; tick++) {
      clock.advanceBy(5_000);
      await second.whenIdle();
    }
    expect(retirementLines(fixture)).toEqual([line]);
    expect(await keptAudits(fixture.store)).toEqual([]);
  });

  it('marks the lines of the runs it ends: a later sweep has nothing to write', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    await fixture.engine.runTask('t');
    await fixture.engine.runTask('t');
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir)).toHaveLength(2);
    expect(await fixture.store.logUnlogged(new Date('2027-01-01T00:00:00Z'), 10, () => undefined)).toBe(0);
  });

  it('recovers a kept run (run --keep) of a deleteAfterRun task as kept: its success leaves the task in place', async () => {
    const config = {
      drivers: { jobs: { type: 'command', actions: { slow: ['node', '-e', 'setTimeout(() => {}, 400)'] } } },
    };
    const manifests = {
      'm.yaml': doc('Task', 'once', {
        objectType: 'jobs',
        target: { name: 'job-1' },
        action: 'slow',
        deleteAfterRun: true,
      }),
    };
    fixture = await engineFixture({ config, manifests, now: '2026-11-23T12:10:00Z' });
    const [run] = await fixture.engine.runTask('once', { keep: true });
    // Stopped mid-run: the attempt is cut off and the run waits in the store for the next engine.
    await fixture.engine.stop(50);
    expect((await fixture.store.getRun(run!.runId))!.trigger.keep).toBe(true);
    second = await restart(fixture, '2026-11-23T12:11:00Z');
    expect(await fixture.store.getRun(run!.runId)).toMatchObject({ status: 'succeeded', interruptions: 1 });
    expect((await fixture.store.getObject('Task', 'once'))!.retiredAt).toBeNull();
    expect(second.liveState.tasks.has('once')).toBe(true);
  });

  it('processes events that were stored but not processed before the stop', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T12:10:00Z' });
    await fixture.store.addEvent({
      id: 'evt_stored',
      type: 'jobs',
      name: 'go',
      object: null,
      fields: {},
      at: '2026-11-23T12:10:00Z',
    });
    second = await restart(fixture, '2026-11-23T12:11:00Z');
    expect(readTaskLogs(fixture.dataDir).map((l) => [l.task, l.trigger.event, l.status])).toEqual([
      ['t', 'evt_stored', 'succeeded'],
    ]);
    expect(await fixture.store.pendingEvents()).toEqual([]);
  });

  it('runs a missed firing once when it is inside the catch-up window', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T11:30:00Z' });
    fixture.clock.advanceTo('2026-11-23T12:00:00Z'); // fires 12:00 and records it
    await fixture.engine.whenIdle();
    // Down from 12:30 until 13:10: the 13:00 firing is 10 minutes old at start-up, inside the 15m window.
    second = await restart(fixture, '2026-11-23T13:10:00Z');
    const runs = readTaskLogs(fixture.dataDir).map((l) => [l.startedAt, l.status]);
    expect(runs).toEqual([
      ['2026-11-23T12:00:00.000Z', 'succeeded'],
      ['2026-11-23T13:10:00.000Z', 'succeeded'],
    ]);
  });

  it('logs firings missed outside the window as skipped, never a burst of late runs', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T11:30:00Z' });
    fixture.clock.advanceTo('2026-11-23T12:00:00Z');
    await fixture.engine.whenIdle();
    second = await restart(fixture, '2026-11-23T15:40:00Z');
    const logs = readTaskLogs(fixture.dataDir);
    expect(logs.filter((l) => l.status === 'succeeded')).toHaveLength(1);
    const skipped = logs.filter((l) => l.status === 'skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped.length).toBeLessThanOrEqual(3);
    expect(skipped[0]!.error).toContain('outside the catch-up window');
  });
});
