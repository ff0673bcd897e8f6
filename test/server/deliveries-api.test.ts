import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { fixtureServer } from '../helpers/server.js';

const TOKEN = 'secret-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };
let fixture: EngineFixture;
let receiver: Receiver;
let app: FastifyInstance;

beforeEach(async () => {
  receiver = await startReceiver();
  fixture = await engineFixture({
    manifests: {
      'm.yaml': docs(
        doc('Webhook', 'hook', { url: receiver.url, retries: 0 }),
        doc('Task', 'notify', {
          objectType: 'webhook',
          target: { name: 'hook' },
          action: 'send',
          params: { payload: { text: 'hi' } },
        }),
      ),
    },
  });
  app = fixtureServer(fixture, { apiToken: TOKEN });
});
afterEach(async () => {
  await app.close();
  await fixture.close();
  await receiver.close();
});

describe('deliveries API', () => {
  it('lists dead letters, replays one with the same body, and refuses what is not a delivery', async () => {
    receiver.script({ status: 500 });
    await fixture.engine.runTask('notify');
    await fixture.engine.whenIdle();
    const listed = await app.inject({ url: '/api/v1/deliveries?failed=1', headers: auth });
    expect(listed.statusCode).toBe(200);
    const [dead] = listed.json<{
      deliveries: Array<{ runId: string; vergeosStatus: string; lastError: string }>;
    }>().deliveries;
    expect(dead).toMatchObject({ vergeosStatus: 'error', lastError: 'HTTP 500 Internal Server Error' });

    fixture.clock.advanceBy(1000); // listings are newest first by queue time
    const replay = await app.inject({
      method: 'POST',
      url: `/api/v1/runs/${dead!.runId}/replay`,
      headers: auth,
    });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toMatchObject({
      run: { trigger: { kind: 'replay', name: dead!.runId } },
      replayOf: dead!.runId,
    });
    await fixture.engine.whenIdle();
    expect(receiver.requests.map((r) => r.body)).toEqual(['{"text":"hi"}', '{"text":"hi"}']);
    const sent = await app.inject({ url: '/api/v1/deliveries?webhook=hook', headers: auth });
    expect(
      sent.json<{ deliveries: Array<{ vergeosStatus: string }> }>().deliveries.map((d) => d.vergeosStatus),
    ).toEqual(['sent', 'error']);
    const missing = await app.inject({ method: 'POST', url: '/api/v1/runs/run_nope/replay', headers: auth });
    expect(missing.statusCode).toBe(404);
    const unauthenticated = await app.inject({ method: 'POST', url: `/api/v1/runs/${dead!.runId}/replay` });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('shows a webhook disabled by 410 in status and re-enables it', async () => {
    receiver.script({ status: 410 });
    await fixture.engine.runTask('notify');
    await fixture.engine.whenIdle();
    const status = await app.inject({ url: '/api/v1/status', headers: auth });
    expect(
      status.json<{ disabledWebhooks: Record<string, { status: number }> }>().disabledWebhooks,
    ).toMatchObject({
      hook: { status: 410 },
    });
    const enable = await app.inject({ method: 'POST', url: '/api/v1/webhooks/hook/enable', headers: auth });
    expect(enable.json()).toEqual({ webhook: 'hook', enabled: true, wasDisabled: true });
    const after = await app.inject({ url: '/api/v1/status', headers: auth });
    expect(after.json<{ disabledWebhooks: object }>().disabledWebhooks).toEqual({});
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/webhooks/nope/enable', headers: auth });
    expect(unknown.statusCode).toBe(404);
  });
});
