import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, ManualClock, readTaskLogs, type Engine } from '../../src/engine/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/wait.js';

let fixture: EngineFixture | undefined;
let receiver: Receiver | undefined;
let second: Engine | undefined;
afterEach(async () => {
  await second?.stop(1000);
  await fixture?.close();
  await receiver?.close();
  fixture = receiver = second = undefined;
});

const SECRET = 'whsec_' + Buffer.from('a durable delivery signing key').toString('base64');

/** A webhook task on the receiver, fired by jobs/go; a slow command task on the same engine. */
function manifests(url: string, webhook: Record<string, unknown> = {}, task: Record<string, unknown> = {}) {
  return {
    'm.yaml': docs(
      doc('Webhook', 'hook', { url, retries: 3, signingSecretFrom: { env: 'HOOK_SECRET' }, ...webhook }),
      doc('Task', 'notify', {
        objectType: 'webhook',
        target: { name: 'hook' },
        action: 'send',
        params: { payload: { text: 'event ${NAME} at ${TIMESTAMP} (${RANDOM})' } },
        ...task,
      }),
      doc('Task', 'work', { objectType: 'jobs', target: { name: 'job-1' }, action: 'ok' }),
      doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['notify'] }),
      doc('EventTrigger', 'work', { event: { type: 'jobs', name: 'work' }, tasks: ['work'] }),
      doc('EventTrigger', 'exhausted', { event: { type: 'webhooks', name: 'exhausted' }, tasks: ['work'] }),
    ),
  };
}

const CONFIG = {
  maxConcurrentRuns: 1,
  secrets: { env: ['HOOK_SECRET'] },
  drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } },
};

async function setUp(webhook: Record<string, unknown> = {}, task: Record<string, unknown> = {}) {
  receiver = await startReceiver();
  fixture = await engineFixture({
    config: CONFIG,
    manifests: manifests(receiver.url, webhook, task),
    driverDeps: { env: { HOOK_SECRET: SECRET }, random: () => 0.5 },
  });
  return { f: fixture, r: receiver };
}

const delayedRuns = async (f: EngineFixture) => f.store.listRuns({ status: ['delayed'] });

describe('durable webhook retries', () => {
  it('moves a failed attempt to delayed and sends the next one at its time, with the same id and body', async () => {
    const { f, r } = await setUp();
    r.script({ status: 503, headers: { 'retry-after': '30' } }, { status: 500 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go', object: 'sync-1' });
    await f.engine.whenIdle();
    const [delayed] = await delayedRuns(f);
    expect(delayed).toMatchObject({ status: 'delayed', attempts: 1, owner: null });
    expect(delayed!.nextAttemptAt).toBe(new Date(f.clock.now().getTime() + 30_000).toISOString());
    expect(delayed!.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'failed', error: expect.stringContaining('HTTP 503') }),
    ]);
    f.clock.advanceBy(29_999);
    await f.engine.whenIdle();
    expect(r.requests).toHaveLength(1);
    f.clock.advanceBy(1);
    await until(() => r.requests.length === 2, 'the second attempt');
    await f.engine.whenIdle();
    // 500: backoff of attempt 2 with random 0.5 is 1 s.
    expect((await delayedRuns(f))[0]?.nextAttemptAt).toBe(
      new Date(f.clock.now().getTime() + 1000).toISOString(),
    );
    f.clock.advanceBy(1000);
    await until(() => r.requests.length === 3, 'the third attempt');
    await f.engine.whenIdle();
    const run = await f.store.getRun(delayed!.runId);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(run!.attemptLog.map((a) => a.outcome)).toEqual(['failed', 'failed', 'succeeded']);
    expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
    expect(r.requests[0]!.headers['webhook-id']).toBe(run!.delivery!.id);
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
    expect(r.requests[0]!.body).toBe(run!.delivery!.body);
    const lines = readTaskLogs(f.dataDir).filter((l) => l.task === 'notify');
    expect(lines.map((l) => [l.status, l.attempts])).toEqual([['succeeded', 3]]);
    expect((lines[0]!.details as { attempts: unknown[] }).attempts).toHaveLength(3);
  });

  it('holds no concurrency slot while delayed: another task runs meanwhile with maxConcurrentRuns 1', async () => {
    const { f, r } = await setUp();
    r.script({ status: 503, headers: { 'retry-after': '60' } });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    expect(await delayedRuns(f)).toHaveLength(1);
    await f.engine.submitEvent({ type: 'jobs', name: 'work' });
    await f.engine.whenIdle();
    expect(readTaskLogs(f.dataDir).map((l) => [l.task, l.status])).toEqual([['work', 'succeeded']]);
    f.clock.advanceBy(60_000);
    await until(async () => (await delayedRuns(f)).length === 0 && r.requests.length === 2, 'the retry');
    await f.engine.whenIdle();
    expect(readTaskLogs(f.dataDir).map((l) => [l.task, l.status])).toEqual([
      ['work', 'succeeded'],
      ['notify', 'succeeded'],
    ]);
  });

  it('bounds one attempt by the task timeout, not the whole delivery', async () => {
    const { f, r } = await setUp({}, { timeoutSeconds: 5 });
    r.script(
      { status: 503, headers: { 'retry-after': '60' } },
      { status: 503, headers: { 'retry-after': '60' } },
    );
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    for (let i = 2; i <= 3; i++) {
      f.clock.advanceBy(60_000);
      await until(() => r.requests.length === i, `attempt ${i}`);
      await f.engine.whenIdle();
    }
    const [line] = readTaskLogs(f.dataDir);
    expect(line).toMatchObject({ task: 'notify', status: 'succeeded', attempts: 3 });
    expect(line!.durationMs).toBeGreaterThanOrEqual(120_000);
  });

  it('ends retries: 100 as failed and exhausted after 101 attempts, and fires webhooks/exhausted with the last error', async () => {
    const { f, r } = await setUp({ retries: 100 });
    for (let i = 0; i < 101; i++) r.script({ status: 500 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    for (let i = 2; i <= 101; i++) {
      f.clock.advanceBy(60_000); // backoff is at most 30 s with random 0.5
      await until(() => r.requests.length === i, `attempt ${i}`);
      await f.engine.whenIdle();
    }
    await f.engine.whenIdle();
    const notify = readTaskLogs(f.dataDir).filter((l) => l.task === 'notify');
    expect(notify).toHaveLength(1);
    expect(notify[0]).toMatchObject({ status: 'failed', attempts: 101 });
    expect(notify[0]!.error).toBe(
      'webhook hook: gave up after 101 attempts; last: HTTP 500 Internal Server Error',
    );
    const exhausted = readTaskLogs(f.dataDir).filter((l) => l.task === 'work');
    expect(exhausted).toHaveLength(1);
    const event = await f.store.getEvent(exhausted[0]!.trigger.event!);
    expect(event).toMatchObject({ type: 'webhooks', name: 'exhausted', object: 'hook', origin: 'engine' });
    expect(event!.fields).toMatchObject({ attempts: 101, error: notify[0]!.error });
  }, 60_000);

  it('resumes the attempt schedule after a restart: nothing early, then the same delivery at its time', async () => {
    const { f, r } = await setUp();
    r.script({ status: 503, headers: { 'retry-after': '40' } });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    const [delayed] = await delayedRuns(f);
    await f.engine.stop(1000);
    const clock = new ManualClock(new Date(f.clock.now().getTime() + 10_000));
    second = createEngine({
      store: f.store,
      dataDir: f.dataDir,
      config: f.config,
      clock,
      driverDeps: { env: { HOOK_SECRET: SECRET } },
    });
    await second.start();
    await second.whenIdle();
    expect(r.requests).toHaveLength(1);
    clock.advanceTo(delayed!.nextAttemptAt!);
    await until(() => r.requests.length === 2, 'the resumed attempt');
    await second.whenIdle();
    expect(r.requests[1]!.headers['webhook-id']).toBe(r.requests[0]!.headers['webhook-id']);
    expect(r.requests[1]!.body).toBe(r.requests[0]!.body);
    expect(await f.store.getRun(delayed!.runId)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('sends a delayed run due in the past at once after a restart', async () => {
    const { f, r } = await setUp();
    r.script({ status: 503, headers: { 'retry-after': '40' } });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    await f.engine.stop(1000);
    second = createEngine({
      store: f.store,
      dataDir: f.dataDir,
      config: f.config,
      clock: new ManualClock(new Date(f.clock.now().getTime() + 3_600_000)),
      driverDeps: { env: { HOOK_SECRET: SECRET } },
    });
    await second.start();
    await until(() => r.requests.length === 2, 'the overdue attempt');
    await second.whenIdle();
  });
});
