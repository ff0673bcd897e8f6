import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEngine, ManualClock, readTaskLogs, type Engine } from '../../src/engine/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { runRecord } from '../helpers/runs.js';
import { until } from '../helpers/wait.js';

/**
 * Two engines on one SQLite file, as two `serve`s would be with the data-dir lock bypassed: every run has one
 * winner, and neither interrupts the other's live run.
 */
let fixture: EngineFixture | undefined;
const extra: Array<{ engine: Engine; store: Store }> = [];
afterEach(async () => {
  for (const { engine, store } of extra.splice(0)) {
    await engine.stop(2000);
    await store.close();
  }
  await fixture?.close();
  fixture = undefined;
});

function config(records: string, ms = 0) {
  const record = `setTimeout(() => require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\n'), ${ms})`;
  return {
    maxConcurrentRuns: 8,
    drivers: { jobs: { type: 'command', actions: { record: ['node', '-e', record, records, '${RUN_ID}'] } } },
  };
}

const MANIFESTS = {
  'm.yaml': docs(
    doc('Task', 't', {
      objectType: 'jobs',
      target: { name: 'job-1' },
      action: 'record',
      concurrency: 'allow',
    }),
    doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['t'] }),
  ),
};

/** A second engine on its own connection to the fixture's data dir. */
async function secondEngine(f: EngineFixture, clock: ManualClock, instanceId = 'engine-b'): Promise<Engine> {
  const store = await openStore(f.dataDir);
  const engine = createEngine({ store, dataDir: f.dataDir, config: f.config, clock, instanceId });
  extra.push({ engine, store });
  return engine;
}

const scratch = mkdtempSync(path.join(tmpdir(), 'taskops-two-engines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;
/** Where the action appends the run id it acted for: one line per execution. */
const recordsFile = () => path.join(scratch, `records-${++files}.txt`);

const recorded = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

describe('two engines on one store', () => {
  it('start each stored run exactly once when both pick up the same waiting runs and events', async () => {
    const records = recordsFile();
    fixture = await engineFixture({ config: config(records), manifests: MANIFESTS });
    const f = fixture;
    await f.engine.stop(1000);
    // Left by a stopped engine: 20 queued runs and 10 events not processed yet.
    const target = { objectType: 'jobs', name: 'job-1' };
    await f.store.insertRuns(
      Array.from({ length: 20 }, (_, i) => runRecord(`run_q${i}`, { task: 't', target })),
    );
    const at = f.clock.now().toISOString();
    await f.store.addEvents(
      Array.from({ length: 10 }, (_, i) => ({
        id: `evt_${i}`,
        type: 'jobs',
        name: 'go',
        object: null,
        fields: {},
        at,
      })),
    );
    const a = await secondEngine(f, new ManualClock(f.clock.now()), 'engine-a');
    const b = await secondEngine(f, new ManualClock(f.clock.now()), 'engine-b');
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.whenIdle(), b.whenIdle()]);
    const lines = recorded(records);
    expect(lines).toHaveLength(30);
    expect(new Set(lines).size).toBe(30);
    const runs = await f.store.listRuns({ status: ['succeeded'] });
    expect(runs).toHaveLength(30);
    expect(runs.every((r) => r.attempts === 1)).toBe(true);
    expect(new Set(runs.map((r) => r.owner))).toEqual(new Set(['engine-a', 'engine-b']));
    expect(readTaskLogs(f.dataDir)).toHaveLength(30);
  });

  it('takes on the events a stopped replica acknowledged but never processed, once they are old enough, once', async () => {
    const records = recordsFile();
    fixture = await engineFixture({ config: config(records), manifests: MANIFESTS });
    const f = fixture;
    const b = await secondEngine(f, new ManualClock(f.clock.now()), 'engine-b');
    await b.start();
    // Engine a acknowledged these (stored, 202) and died before matching them.
    const stored = (i: number, at: Date) => ({
      id: `evt_left_${i}`,
      type: 'jobs',
      name: 'go',
      object: null,
      fields: {},
      at: at.toISOString(),
    });
    const now = f.clock.now();
    await f.store.addEvents([stored(0, new Date(now.getTime() - 20_000)), stored(1, now)]);
    expect(await b.recoverPendingEvents(new Date(now.getTime() - 15_000))).toBe(1);
    await b.whenIdle();
    expect(recorded(records)).toHaveLength(1);
    expect((await f.store.pendingEvents()).map((e) => e.id)).toEqual(['evt_left_1']);
    // Both engines sweeping the same events at once: each event still makes one run.
    await Promise.all([
      b.recoverPendingEvents(new Date(now.getTime() + 1)),
      f.engine.recoverPendingEvents(new Date(now.getTime() + 1)),
    ]);
    await Promise.all([b.whenIdle(), f.engine.whenIdle()]);
    expect(recorded(records)).toHaveLength(2);
    expect(new Set(recorded(records)).size).toBe(2);
    expect(await f.store.pendingEvents()).toEqual([]);
  });

  it("never interrupts another engine's live run when it starts", async () => {
    const records = recordsFile();
    fixture = await engineFixture({ config: config(records, 1500), manifests: MANIFESTS });
    const f = fixture;
    await f.engine.runTask('t');
    await until(
      async () => (await f.store.listRuns({ status: ['running'] })).length === 1,
      'the run to start',
    );
    const clock = new ManualClock(f.clock.now());
    const b = await secondEngine(f, clock);
    await b.start();
    await b.whenIdle();
    const [running] = await f.store.listRuns({ status: ['running'] });
    expect(running?.owner).toBe(f.engine.instanceId);
    await f.engine.whenIdle();
    expect(recorded(records)).toHaveLength(1);
    expect(readTaskLogs(f.dataDir).map((l) => l.status)).toEqual(['succeeded']);
  });

  it('recovers a run whose owner stopped renewing its lease, after the lease and not before', async () => {
    fixture = await engineFixture({ config: config(recordsFile()), manifests: MANIFESTS });
    const f = fixture;
    const now = f.clock.now();
    await f.store.insertRun(
      runRecord('run_orphan', {
        task: 't',
        target: { objectType: 'jobs', name: 'job-1' },
        status: 'running',
        owner: 'engine-dead',
        attempts: 1,
        startedAt: now.toISOString(),
        attemptStartedAt: now.toISOString(),
        leaseUntil: new Date(now.getTime() + 15_000).toISOString(),
      }),
    );
    const clock = new ManualClock(now);
    const b = await secondEngine(f, clock);
    await b.start();
    await b.whenIdle();
    expect((await f.store.getRun('run_orphan'))?.status).toBe('running');
    // b's recovery ticks every 5 s of clock time: at +5 s and at +15 s the lease (until +15 s) still holds.
    for (const step of [10_000, 5_000]) {
      clock.advanceBy(step);
      await b.whenIdle();
      expect((await f.store.getRun('run_orphan'))?.status).toBe('running');
    }
    clock.advanceBy(10_000);
    await until(
      async () => (await f.store.getRun('run_orphan'))?.status === 'succeeded',
      'the recovered run to end',
    );
    const run = await f.store.getRun('run_orphan');
    expect(run).toMatchObject({ owner: 'engine-b', attempts: 2, interruptions: 1 });
    expect(run!.attemptLog.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
    expect(readTaskLogs(f.dataDir).map((l) => [l.runId, l.status])).toEqual([
      ['run_orphan', 'interrupted'],
      ['run_orphan', 'succeeded'],
    ]);
  });
});
