import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { SyncController, SyncOutcome } from '../../src/server/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { fixtureServer } from '../helpers/server.js';

const TOKEN = 'secret-token-for-tests';
let fixture: EngineFixture;
let app: FastifyInstance;
let syncCalls = 0;

const sync: SyncController = {
  describe: () => ({ source: 'test', autoApply: true }),
  syncNow: async (): Promise<SyncOutcome> => {
    syncCalls++;
    return {
      outcome: 'unchanged',
      revision: 'rev-1',
      summary: { create: 0, update: 0, delete: 0 },
      error: null,
    };
  },
};
const auth = { authorization: `Bearer ${TOKEN}` };

beforeEach(async () => {
  fixture = await engineFixture({
    config: { drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } } },
    manifests: {
      'm.yaml': docs(
        doc('Schedule', 'hourly', { cron: '0 * * * *' }),
        doc('Task', 't', {
          objectType: 'jobs',
          target: { name: 'obj' },
          action: 'ok',
          schedules: ['hourly'],
        }),
        doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['t'] }),
      ),
    },
  });
  app = fixtureServer(fixture, { apiToken: TOKEN, sync, bodyLimit: 1024 });
  syncCalls = 0;
});
afterEach(async () => {
  await app.close();
  await fixture.close();
});

describe('the HTTP API', () => {
  it('answers 503 on /readyz and the API until the engine has started, while /healthz stays 200', async () => {
    let ready = false;
    const starting = fixtureServer(fixture, { apiToken: TOKEN, sync, isReady: () => ready });
    try {
      expect((await starting.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect((await starting.inject({ url: '/readyz' })).statusCode).toBe(503);
      const early = await starting.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: { type: 'jobs', name: 'go' },
      });
      expect(early.statusCode).toBe(503);
      expect(early.json()).toEqual({
        error: 'starting',
        message: 'the engine is starting; retry in a moment',
      });
      expect((await fixture.store.pendingEvents()).length).toBe(0);
      // The token is still checked first: nothing is told to an unauthenticated caller.
      expect((await starting.inject({ url: '/api/v1/status' })).statusCode).toBe(401);
      ready = true;
      expect((await starting.inject({ url: '/readyz' })).statusCode).toBe(200);
      expect((await starting.inject({ url: '/api/v1/status', headers: auth })).statusCode).toBe(200);
    } finally {
      await starting.close();
    }
  });

  it('answers the health probes without a token and everything else only with one', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    for (const url of ['/metrics', '/api/v1/status', '/api/v1/tasks', '/api/v1/runs']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual({
        error: 'unauthorized',
        message: 'a valid Authorization: Bearer <token> header is required',
      });
    }
    expect(
      (await app.inject({ url: '/api/v1/status', headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
    expect((await app.inject({ url: '/api/v1/status', headers: auth })).statusCode).toBe(200);
  });

  it('stores an event before answering 202 with its id, then runs the matching task', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: auth,
      payload: { type: 'jobs', name: 'go', fields: { n: 1 } },
    });
    expect(res.statusCode).toBe(202);
    const { id } = res.json() as { id: string };
    expect(await fixture.store.getEvent(id)).toMatchObject({ type: 'jobs', name: 'go', fields: { n: 1 } });
    await fixture.engine.whenIdle();
    const runs = (
      await app.inject({ url: '/api/v1/runs?task=t&status=succeeded', headers: auth })
    ).json() as { runs: Array<{ trigger: { event: string } }> };
    expect(runs.runs.map((r) => r.trigger.event)).toEqual([id]);
  });

  it('refuses malformed events with a JSON error naming the problem', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'go' }, "must have required property 'type'"],
      [{ type: 'Jobs!', name: 'go' }, 'body/type must match pattern'],
      [{ type: 'jobs', name: 'go', extra: 1 }, 'must NOT have additional properties'],
      [{ type: 'jobs', name: 'go', object: 'vm\u001b]0;pwned\u0007' }, 'body/object must match pattern'],
      [
        { type: 'jobs', name: 'go', fields: { nested: { a: 1 } } },
        'body/fields/nested must be string,number,boolean',
      ],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: payload as object,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'bad_request' });
      expect((res.json() as { message: string }).message).toContain(message);
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{oops',
    });
    expect(notJson.statusCode).toBe(400);
  });

  it('bounds request bodies', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: auth,
      payload: { type: 'jobs', name: 'go', fields: { big: 'x'.repeat(2000) } },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('lists tasks with their triggers and next firings, and runs one on demand', async () => {
    const tasks = (await app.inject({ url: '/api/v1/tasks', headers: auth })).json() as {
      tasks: Array<{ name: string; triggers: string[]; nextFirings: string[] }>;
    };
    expect(tasks.tasks).toHaveLength(1);
    expect(tasks.tasks[0]).toMatchObject({
      name: 't',
      triggers: ['go'],
      nextFirings: ['2026-11-23T13:00:00.000Z', '2026-11-23T14:00:00.000Z', '2026-11-23T15:00:00.000Z'],
    });
    const run = await app.inject({ method: 'POST', url: '/api/v1/tasks/t/run', headers: auth });
    expect(run.statusCode).toBe(202);
    expect((run.json() as { runs: Array<{ trigger: { kind: string } }> }).runs[0]!.trigger.kind).toBe(
      'manual',
    );
    const missing = await app.inject({ method: 'POST', url: '/api/v1/tasks/nope/run', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: 'not_found',
      message: 'Task/nope does not exist in the live state',
    });
  });

  it('reports status with the sync state and next firings, syncs on demand, and exposes metrics', async () => {
    const status = (await app.inject({ url: '/api/v1/status', headers: auth })).json() as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      objects: { Task: { total: 1 } },
      sync: { source: 'test', autoApply: true, lastOutcome: 'applied', lastError: null },
      nextFirings: expect.arrayContaining([
        { schedule: 'hourly', at: '2026-11-23T13:00:00.000Z', tasks: ['t'] },
      ]),
    });
    const synced = await app.inject({ method: 'POST', url: '/api/v1/sync', headers: auth });
    expect(synced.json()).toMatchObject({ outcome: 'unchanged' });
    expect(syncCalls).toBe(1);
    await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: auth,
      payload: { type: 'jobs', name: 'go' },
    });
    const metrics = await app.inject({ url: '/metrics', headers: auth });
    expect(metrics.body).toContain('taskops_events_received_total 1');
  });

  it('validates run queries and answers unknown routes with JSON', async () => {
    expect((await app.inject({ url: '/api/v1/runs?limit=0', headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v1/runs?status=done', headers: auth })).statusCode).toBe(400);
    const missing = await app.inject({ url: '/api/v1/nothing', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'no route GET /api/v1/nothing' });
  });

  it('makes objects by hand: validated like manifests, new ones managed by the API, changed ones shown as drift', async () => {
    const created = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Tag/adhoc',
      headers: auth,
      payload: { spec: { category: 'jobs', members: ['x'] } },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      object: { kind: 'Tag', name: 'adhoc', managedBy: 'api', drift: false },
    });

    const changed = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Task/t',
      headers: auth,
      payload: { spec: { objectType: 'jobs', target: { name: 'obj' }, action: 'ok', enabled: false } },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      object: { managedBy: 'taskops', drift: true, spec: { enabled: false, concurrency: 'forbid' } },
    });
    const status = (await app.inject({ url: '/api/v1/status', headers: auth })).json() as {
      drift: Array<{ name: string }>;
    };
    expect(status.drift.map((d) => d.name)).toEqual(['t']);

    const invalid = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Task/bad',
      headers: auth,
      payload: { spec: { objectType: 'jobs', action: 'ok', schedules: ['nope'], timeoutSeconds: 0 } },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toEqual({
      error: 'invalid',
      message: 'Task/bad is invalid; nothing was changed',
      problems: ['spec.timeoutSeconds must be at least 1 (got 0)'],
    });
    const dangling = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Task/bad',
      headers: auth,
      payload: { spec: { objectType: 'jobs', action: 'ok', schedules: ['hourli'] } },
    });
    expect(dangling.json()).toMatchObject({
      problems: ['spec.schedules[0]: Schedule/hourli does not exist (did you mean hourly?)'],
    });
    const secret = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Webhook/w',
      headers: auth,
      payload: { spec: { url: 'https://x.example/h', auth: { type: 'bearer', token: 'abc' } } },
    });
    expect(secret.statusCode).toBe(400);
    expect(JSON.stringify(secret.json())).not.toContain('abc');
    const list = (await app.inject({ url: '/api/v1/objects?kind=Tag', headers: auth })).json() as {
      objects: Array<{ name: string }>;
    };
    expect(list.objects.map((o) => o.name)).toEqual(['adhoc']);
  });
});
