import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  ManualClock,
  readTaskLogs,
  type Engine,
  type EngineLogger,
  type TaskLogLine,
} from '../../src/engine/index.js';
import { openStore, StoreError, type Store } from '../../src/store/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { until } from '../helpers/wait.js';

let fixture: EngineFixture | undefined;
const extra: Array<{ engine: Engine; store?: Store }> = [];
afterEach(async () => {
  for (const { engine, store } of extra.splice(0)) {
    await engine.stop(1000);
    await store?.close();
  }
  await fixture?.close();
  fixture = undefined;
});

const CONFIG = { drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } } };
const task = doc('Task', 't', {
  objectType: 'jobs',
  target: { name: 'job-1' },
  action: 'ok',
  schedules: ['hourly'],
});
const MANIFESTS = { 'm.yaml': docs(doc('Schedule', 'hourly', { cron: '0 * * * *' }), task) };
/** The same schedule, changed in form only (an explicit zone): the scheduler plans it afresh. */
const CHANGED = { 'm.yaml': docs(doc('Schedule', 'hourly', { cron: '0 * * * *', timezone: 'UTC' }), task) };

function recordingLogger(): EngineLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (msg: string, data?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`);
  return { lines, info: put('info'), warn: put('warn'), error: put('error') };
}

/** Moves the clock `ms` forward in 1 s steps, letting the engine settle after each, as real time would. */
async function step(f: EngineFixture, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    f.clock.advanceBy(Math.min(1000, ms - done));
    await f.engine.whenIdle();
  }
}

/**
 * A further engine on the fixture's data dir and config (a restart, or a second process with `own` store),
 * started on a clock of its own at `now`; stopped after the test, and its own store closed.
 */
async function startEngine(
  f: EngineFixture,
  now: string | Date,
  own: { store?: Store; logger?: EngineLogger } = {},
): Promise<{ engine: Engine; clock: ManualClock }> {
  const clock = new ManualClock(now);
  const engine = createEngine({
    store: own.store ?? f.store,
    dataDir: f.dataDir,
    config: f.config,
    clock,
    ...(own.logger ? { logger: own.logger } : {}),
  });
  extra.push({ engine, ...(own.store ? { store: own.store } : {}) });
  await engine.start();
  return { engine, clock };
}

const scheduleLines = (f: EngineFixture): TaskLogLine[] =>
  readTaskLogs(f.dataDir).filter((l) => l.trigger.kind === 'schedule');
const summary = (l: TaskLogLine) =>
  `${l.status} ${l.trigger.scheduledFor} catchUp=${l.trigger.catchUp} started ${l.startedAt}`;

describe('each schedule slot fires once, whatever the wall clock does', () => {
  it('marks a normal firing with its slot and catchUp: false, in the run record and the task log', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T08:59:00Z' });
    await step(fixture, 60_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z catchUp=false started 2026-11-23T09:00:00.000Z',
    ]);
    const [run] = await fixture.store.listRuns({ task: 't' });
    expect(run!.trigger).toEqual({
      kind: 'schedule',
      name: 'hourly',
      event: null,
      scheduledFor: '2026-11-23T09:00:00.000Z',
      catchUp: false,
    });
    expect(await fixture.store.listFirings('hourly')).toMatchObject([
      { scheduledFor: '2026-11-23T09:00:00.000Z', outcome: 'fired', catchUp: false },
    ]);
  });

  it('after a +75 s jump across a firing, runs it within 5 s', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T08:59:30Z' });
    fixture.clock.jumpTo('2026-11-23T09:00:45Z');
    await step(fixture, 5_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z catchUp=false started 2026-11-23T09:00:47.000Z',
    ]);
  });

  it('after a +1 h jump across a firing, reports it missed within 5 s (15 min window), and the next runs on time', async () => {
    const logger = recordingLogger();
    fixture = await engineFixture({
      config: CONFIG,
      manifests: MANIFESTS,
      now: '2026-11-23T08:59:30Z',
      logger,
    });
    fixture.clock.jumpTo('2026-11-23T09:59:30Z');
    await step(fixture, 5_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'skipped 2026-11-23T09:00:00.000Z catchUp=false started 2026-11-23T09:59:32.000Z',
    ]);
    expect(scheduleLines(fixture)[0]!.error).toContain('outside the catch-up window');
    expect(logger.lines.some((l) => l.startsWith('warn the wall clock jumped'))).toBe(true);
    await step(fixture, 30_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'skipped 2026-11-23T09:00:00.000Z catchUp=false started 2026-11-23T09:59:32.000Z',
      'succeeded 2026-11-23T10:00:00.000Z catchUp=false started 2026-11-23T10:00:00.000Z',
    ]);
  });

  it('after a +1 h jump, runs the firing once as a catch-up within 5 s when the window is 2 h', async () => {
    fixture = await engineFixture({
      config: { ...CONFIG, catchUpWindow: '2h' },
      manifests: MANIFESTS,
      now: '2026-11-23T08:59:30Z',
    });
    fixture.clock.jumpTo('2026-11-23T09:59:30Z');
    await step(fixture, 5_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z catchUp=true started 2026-11-23T09:59:32.000Z',
    ]);
    const [run] = await fixture.store.listRuns({ task: 't' });
    expect(run!.trigger).toMatchObject({ scheduledFor: '2026-11-23T09:00:00.000Z', catchUp: true });
  });

  it('after a +10 min jump, runs the firing as a catch-up within 5 s with the default 15 min window', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T08:59:30Z' });
    fixture.clock.jumpTo('2026-11-23T09:09:30Z');
    await step(fixture, 5_000);
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z catchUp=true started 2026-11-23T09:09:32.000Z',
    ]);
  });

  it('after a backward jump, a re-planned schedule and a restart, runs no slot twice', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T08:59:30Z' });
    await step(fixture, 60_000);
    fixture.clock.jumpTo('2026-11-23T08:00:30Z');
    await step(fixture, 5_000);
    await fixture.applyManifests(CHANGED);
    await step(fixture, 5_000);
    // A restart at the stepped-back time: the ledger's watermark (09:00) is ahead of the clock.
    await fixture.engine.stop(1000);
    const { engine, clock } = await startEngine(fixture, fixture.clock.now());
    for (let t = clock.now().getTime(); t < Date.parse('2026-11-23T10:00:30Z'); t += 60_000) {
      clock.advanceTo(t);
      await engine.whenIdle();
    }
    clock.advanceTo('2026-11-23T10:00:30Z');
    await engine.whenIdle();
    expect(scheduleLines(fixture).map((l) => `${l.status} ${l.trigger.scheduledFor}`)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z',
      'succeeded 2026-11-23T10:00:00.000Z',
    ]);
  });

  it('keeps a firing when its schedule changes at the due instant, before the timer ran: it runs once', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T08:59:59Z' });
    fixture.clock.jumpTo('2026-11-23T09:00:00Z');
    await fixture.applyManifests(CHANGED);
    await step(fixture, 5_000);
    await step(fixture, 60_000 * 61);
    expect(
      scheduleLines(fixture).map((l) => `${l.status} ${l.trigger.scheduledFor} ${l.trigger.catchUp}`),
    ).toEqual(['succeeded 2026-11-23T09:00:00.000Z false', 'succeeded 2026-11-23T10:00:00.000Z false']);
  });

  it('marks a catch-up run after downtime in the task log with catchUp: true and the slot it stands in for', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T11:59:00Z' });
    await step(fixture, 60_000);
    await fixture.engine.stop(1000);
    const { engine } = await startEngine(fixture, '2026-11-23T13:10:00Z');
    await engine.whenIdle();
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T12:00:00.000Z catchUp=false started 2026-11-23T12:00:00.000Z',
      'succeeded 2026-11-23T13:00:00.000Z catchUp=true started 2026-11-23T13:10:00.000Z',
    ]);
  });

  it('fires a slot once when two engines share one SQLite store: one firing, one set of runs', async () => {
    const logger = recordingLogger();
    fixture = await engineFixture({
      config: CONFIG,
      manifests: MANIFESTS,
      now: '2026-11-23T08:59:00Z',
      logger,
    });
    // A second engine with its own connection to the same data dir, as a second process would have.
    const otherLogger = recordingLogger();
    const store = await openStore(fixture.dataDir);
    const { engine, clock } = await startEngine(fixture, '2026-11-23T08:59:00Z', {
      store,
      logger: otherLogger,
    });
    for (let i = 0; i < 61; i++) {
      fixture.clock.advanceBy(1000);
      clock.advanceBy(1000);
      await Promise.all([fixture.engine.whenIdle(), engine.whenIdle()]);
    }
    expect(scheduleLines(fixture).map((l) => `${l.status} ${l.trigger.scheduledFor}`)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z',
    ]);
    expect(await store.listRuns({ task: 't' })).toHaveLength(1);
    expect(await store.listFirings('hourly')).toHaveLength(1);
    const all = [...logger.lines, ...otherLogger.lines];
    expect(all.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(all.filter((l) => l.includes('schedule slot already recorded'))).toHaveLength(1);
  });
});

/** Makes the store refuse every write of runs while `refusing()` says so, as a full or failing disk would. */
function refuseRunWrites(store: Store, refusing: () => boolean): () => number {
  let refused = 0;
  const real = store.insertRuns.bind(store);
  store.insertRuns = async (runs, opts) => {
    if (!refusing()) return real(runs, opts);
    refused++;
    throw new StoreError('could not store the runs: disk I/O error (injected)', 'io');
  };
  return () => refused;
}

describe('a schedule slot and its runs are stored together, never the one without the other', () => {
  it('retries a firing whose runs the store refused, and then runs it once', async () => {
    const logger = recordingLogger();
    fixture = await engineFixture({
      config: CONFIG,
      manifests: MANIFESTS,
      now: '2026-11-23T08:59:30Z',
      logger,
    });
    let failing = true;
    const refused = refuseRunWrites(fixture.store, () => failing);
    fixture.clock.advanceTo('2026-11-23T09:00:00Z');
    await until(async () => (refused() >= 1 ? true : null), 'the store to refuse the firing');
    // The retry waits on the engine's clock (0.5 s, then 1 s …).
    await until(() => {
      fixture!.clock.advanceBy(500);
      return refused() >= 2;
    }, 'the store to refuse the firing again');
    expect(await fixture.store.listFirings('hourly')).toEqual([]);
    failing = false;
    await step(fixture, 60_000);
    expect(scheduleLines(fixture).map((l) => `${l.status} ${l.trigger.scheduledFor}`)).toEqual([
      'succeeded 2026-11-23T09:00:00.000Z',
    ]);
    expect(await fixture.store.listFirings('hourly')).toHaveLength(1);
    expect(
      logger.lines.some((l) => l.startsWith('error could not store the firing of Schedule/hourly')),
    ).toBe(true);
  });

  it('leaves a slot whose runs were never stored unrecorded, so the next start catches it up once', async () => {
    fixture = await engineFixture({ config: CONFIG, manifests: MANIFESTS, now: '2026-11-23T07:59:30Z' });
    await step(fixture, 60_000);
    let failing = true;
    const refused = refuseRunWrites(fixture.store, () => failing);
    fixture.clock.advanceTo('2026-11-23T09:00:00Z');
    await until(async () => (refused() >= 1 ? true : null), 'the store to refuse the firing');
    // The engine goes down before the store took the firing (a crash, a stop): nothing of the slot is stored.
    await fixture.engine.stop(1000);
    failing = false;
    expect((await fixture.store.listFirings('hourly')).map((f) => f.scheduledFor)).toEqual([
      '2026-11-23T08:00:00.000Z',
    ]);
    expect(await fixture.store.listRuns({ task: 't' })).toHaveLength(1);
    const { engine } = await startEngine(fixture, '2026-11-23T09:05:00Z');
    await engine.whenIdle();
    expect(scheduleLines(fixture).map(summary)).toEqual([
      'succeeded 2026-11-23T08:00:00.000Z catchUp=false started 2026-11-23T08:00:00.000Z',
      'succeeded 2026-11-23T09:00:00.000Z catchUp=true started 2026-11-23T09:05:00.000Z',
    ]);
    expect(await fixture.store.listFirings('hourly')).toHaveLength(2);
  });
});
