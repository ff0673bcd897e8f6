import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { buildServer, Metrics, type SyncController } from '../../src/server/index.js';
import { doc, docs, engineFixture, memoryLogger, type EngineFixture } from '../helpers/engine.js';
import { until } from '../helpers/wait.js';

/**
 * The SQLite file really refuses to grow mid-run (max_page_count at its current size), as on a full disk: the
 * run's output no longer fits, so its end cannot be recorded.
 */
let fixture: EngineFixture | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  fixture?.store.limitPages(null);
  await app?.close();
  await fixture?.close();
  fixture = app = undefined;
});

const sync: SyncController = {
  describe: () => ({ source: 'test', autoApply: true }),
  syncNow: async () => ({
    outcome: 'unchanged',
    revision: null,
    summary: { create: 0, update: 0, delete: 0 },
    error: null,
  }),
};

// Prints 16 KB after 400 ms: the test fills the disk between its start and its end.
const CHATTY = ['node', '-e', 'setTimeout(() => process.stdout.write("x".repeat(16384)), 400)'];

async function setUp() {
  const logger = memoryLogger();
  fixture = await engineFixture({
    config: { drivers: { jobs: { type: 'command', actions: { chatty: CHATTY } } } },
    manifests: {
      'm.yaml': docs(
        doc('Task', 't', { objectType: 'jobs', target: { name: 'job-1' }, action: 'chatty' }),
        doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['t'] }),
      ),
    },
    logger,
  });
  const metrics = new Metrics();
  const f = fixture;
  metrics.watchRecording(() => f.engine.recordingHealth());
  app = buildServer({ engine: f.engine, store: f.store, metrics, sync, defaultZone: 'UTC', apiToken: null });
  await f.engine.submitEvent({ type: 'jobs', name: 'go' });
  const [run] = await until(
    () => f.store.listRuns({ status: ['running'] }).then((r) => (r.length ? r : null)),
    'the run to start',
  );
  f.store.limitPages(f.store.pageCount());
  const refused = await until(
    () => logger.lines.find((l) => l.level === 'error' && l.data?.runId === run!.runId),
    'the refused write to be logged',
  );
  return { f, run: run!, logger, refused, app: app! };
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('the store refuses writes mid-run (disk full)', () => {
  it('logs the error with the run id, shows it in /readyz and metrics, and records the run once writes work again', async () => {
    const { f, run, refused, app } = await setUp();
    expect(refused.msg).toMatch(
      new RegExp(
        `could not record the end of run ${run.runId}: .*database or disk is full; retrying in 0.5s`,
      ),
    );
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'degraded',
      reason: expect.stringContaining('database or disk is full'),
      unrecordedRuns: 1,
    });
    const scraped = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metric(scraped, 'taskops_store_write_failures_total')).toBeGreaterThanOrEqual(1);
    expect(metric(scraped, 'taskops_unrecorded_runs')).toBe(1);
    expect((await f.store.getRun(run.runId))?.status).toBe('running');

    f.store.limitPages(null);
    f.clock.advanceBy(500); // the retry's backoff, on the engine clock
    await until(
      async () => (await f.store.getRun(run.runId))?.status === 'succeeded',
      'the end to be recorded',
    );
    await f.engine.whenIdle();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const after = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metric(after, 'taskops_unrecorded_runs')).toBe(0);
    expect(readTaskLogs(f.dataDir).map((l) => [l.runId, l.status])).toEqual([[run.runId, 'succeeded']]);
  });

  it('never leaves the run running: the unrecorded attempt keeps no lease, recovery interrupts and retries it', async () => {
    const { f, run } = await setUp();
    const lease = Date.parse((await f.store.getRun(run.runId))!.leaseUntil!);
    // Full for longer than the lease: nothing renews the lease of an attempt whose end is unrecorded.
    while (f.clock.now().getTime() <= lease + 5_000) {
      f.clock.advanceBy(5_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(
      async () => ((await f.store.getRun(run.runId))?.interruptions ?? 0) >= 1,
      'recovery to interrupt it',
    );
    expect((await f.store.getRun(run.runId))?.attemptLog[0]).toMatchObject({
      attempt: 1,
      outcome: 'interrupted',
    });
    f.store.limitPages(null);
    for (let i = 0; i < 20 && (await f.store.getRun(run.runId))?.status !== 'succeeded'; i++) {
      f.clock.advanceBy(5_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    await f.engine.whenIdle();
    const ended = await f.store.getRun(run.runId);
    expect(ended).toMatchObject({ status: 'succeeded' });
    expect(ended!.attempts).toBeGreaterThanOrEqual(2);
    expect(f.engine.recordingHealth()).toMatchObject({ ok: true, unrecordedRuns: 0 });
  });
});
