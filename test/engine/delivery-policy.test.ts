import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import type { RecordedRequest } from '../helpers/http-receiver.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/wait.js';

let fixture: EngineFixture | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await fixture?.close();
  await receiver?.close();
  fixture = receiver = undefined;
});

const SECRET = 'whsec_' + Buffer.from('a delivery policy signing key, 32b').toString('base64');
const SVIX = ['5s', '5m', '30m', '2h', '5h', '10h', '10h'];
const HOUR = 3_600_000;

function manifests(url: string, webhook: Record<string, unknown> = {}) {
  return {
    'm.yaml': docs(
      doc('Webhook', 'hook', { url, retries: 0, signingSecretFrom: { env: 'HOOK_SECRET' }, ...webhook }),
      doc('Task', 'notify', {
        objectType: 'webhook',
        target: { name: 'hook' },
        action: 'send',
        params: {
          payload: '{"id": 12345678901234567890, "2": "two", "1": "one", "v": 1.10, "who": "${NAME}"}',
        },
      }),
      doc('Task', 'alert', { objectType: 'jobs', target: { name: 'job-1' }, action: 'ok' }),
      doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['notify'] }),
      doc('EventTrigger', 'exhausted', { event: { type: 'webhooks', name: 'exhausted' }, tasks: ['alert'] }),
    ),
  };
}

async function setUp(webhook: Record<string, unknown> = {}) {
  receiver = await startReceiver();
  fixture = await engineFixture({
    config: {
      secrets: { env: ['HOOK_SECRET'] },
      drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } },
    },
    manifests: manifests(receiver.url, webhook),
    driverDeps: { env: { HOOK_SECRET: SECRET }, random: () => 0.5 },
  });
  return { f: fixture, r: receiver };
}

/** The official Standard Webhooks verifier, as a receiver runs it: throws on a bad signature. */
function verified(request: RecordedRequest): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  return new Webhook(SECRET).verify(request.body, headers);
}

const notifyRuns = async (f: EngineFixture) =>
  (await f.store.listRuns({ task: 'notify' })).sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : 1));

describe('webhook retry policy in the engine', () => {
  it("follows Svix's intervals on the injected clock: a day of 503s in test time, then exhausted with the last error", async () => {
    const { f, r } = await setUp({ retries: 7, retrySchedule: { intervals: SVIX } });
    for (let i = 0; i < 8; i++) r.script({ status: 503 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go', object: 'sync-1' });
    await f.engine.whenIdle();
    const waits: number[] = [];
    for (let i = 2; i <= 8; i++) {
      const [run] = await f.store.listRuns({ task: 'notify', status: ['delayed'] });
      waits.push(Date.parse(run!.nextAttemptAt!) - f.clock.now().getTime());
      f.clock.advanceTo(run!.nextAttemptAt!);
      await until(() => r.requests.length === i, `attempt ${i}`);
      await f.engine.whenIdle();
    }
    expect(waits).toEqual([5000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]);
    expect(waits.reduce((a, b) => a + b)).toBeGreaterThan(24 * HOUR);
    const [run] = await notifyRuns(f);
    expect(run).toMatchObject({ status: 'failed', attempts: 8 });
    expect(run!.attemptLog).toHaveLength(8);
    // Every attempt verifies with the official verifier, all with one webhook-id.
    for (const request of r.requests) verified(request);
    expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set([run!.delivery!.id]));
    await until(() => readTaskLogs(f.dataDir).some((l) => l.task === 'alert'), 'the exhausted alert');
    const alert = readTaskLogs(f.dataDir).find((l) => l.task === 'alert')!;
    const event = await f.store.getEvent(alert.trigger.event!);
    expect(event!.fields).toMatchObject({ attempts: 8, lastError: 'HTTP 503 Service Unavailable' });
  }, 30_000);

  it('disables the webhook on 410: later deliveries fail at once, until the Webhook changes in git', async () => {
    const { f, r } = await setUp({ retries: 3 });
    r.script({ status: 410 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    const [gone] = await notifyRuns(f);
    expect(gone).toMatchObject({ status: 'failed', attempts: 1 });
    expect(gone!.error).toMatch(/HTTP 410 Gone/);
    expect([...(await f.engine.disabledWebhooks()).keys()]).toEqual(['hook']);

    f.clock.advanceBy(1000);
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    const [, refused] = await notifyRuns(f);
    expect(refused).toMatchObject({ status: 'failed' });
    expect(refused!.error).toMatch(/^webhook hook: disabled by the receiver \(410 at \d{4}-.*, run /);
    expect(r.requests).toHaveLength(1);

    await f.applyManifests(manifests(receiver!.url, { retries: 3, timeoutSeconds: 20 }));
    expect((await f.engine.disabledWebhooks()).size).toBe(0);
    f.clock.advanceBy(1000);
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    expect(r.requests).toHaveLength(2);
    expect((await notifyRuns(f))[2]).toMatchObject({ status: 'succeeded' });
  });

  it('re-enables a disabled webhook on the operator’s word', async () => {
    const { f, r } = await setUp();
    r.script({ status: 410 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    expect(await f.engine.enableWebhook('hook')).toBe(true);
    expect(await f.engine.enableWebhook('hook')).toBe(false);
    await f.engine.submitEvent({ type: 'jobs', name: 'go' });
    await f.engine.whenIdle();
    expect(r.requests).toHaveLength(2);
    await expect(f.engine.enableWebhook('nope')).rejects.toThrow('Webhook/nope does not exist');
  });
});

describe('dead letters and replay', () => {
  it('replays a failed delivery with the same webhook-id and byte-identical body, logged as trigger replay', async () => {
    const { f, r } = await setUp();
    r.script({ status: 500 });
    await f.engine.submitEvent({ type: 'jobs', name: 'go', object: 'vm "a"' });
    await f.engine.whenIdle();
    const [dead] = await f.store.listRuns({ objectType: 'webhook', status: ['failed'] });
    expect(dead).toMatchObject({ task: 'notify', attempts: 1 });
    expect(dead!.attemptLog[0]!.error).toMatch(/HTTP 500/);

    const replay = await f.engine.replay(dead!.runId);
    await f.engine.whenIdle();
    expect(r.requests).toHaveLength(2);
    const [first, second] = r.requests;
    // Lossless: the template's own bytes, only the string with a variable replaced (escaped).
    expect(first!.body).toBe(
      '{"id": 12345678901234567890, "2": "two", "1": "one", "v": 1.10, "who": "vm \\"a\\""}',
    );
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(Buffer.from(second!.body)).toEqual(Buffer.from(first!.body));
    expect(verified(second!)).toEqual(verified(first!));
    expect(await f.store.getRun(replay.runId)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      trigger: { kind: 'replay', name: dead!.runId },
    });
    const line = readTaskLogs(f.dataDir).find((l) => l.runId === replay.runId);
    expect(line?.trigger).toMatchObject({ kind: 'replay', name: dead!.runId });
  });

  it('refuses to replay what is not a finished delivery', async () => {
    const { f } = await setUp();
    await expect(f.engine.replay('run_nope')).rejects.toThrow('no run run_nope');
    await expect(f.engine.runTask('alert')).resolves.toHaveLength(1);
    await f.engine.whenIdle();
    const [command] = await f.store.listRuns({ task: 'alert' });
    await expect(f.engine.replay(command!.runId)).rejects.toThrow('is not a webhook delivery');
  });
});
