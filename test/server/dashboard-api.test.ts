import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { fixtureServer } from '../helpers/server.js';

const TOKEN = 'dashboard-api-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let fixture: EngineFixture;
let app: FastifyInstance;
let base: string;

beforeEach(async () => {
  fixture = await engineFixture({
    now: '2026-11-23T12:00:00Z',
    config: {
      drivers: {
        jobs: {
          type: 'command',
          actions: { ok: ['node', '-e', 'console.log("done")'], bad: ['node', '-e', 'process.exit(3)'] },
        },
      },
    },
    manifests: {
      'm.yaml': docs(
        doc('Schedule', 'friday-6pm', {
          timezone: 'America/New_York',
          repeat: { every: 1, unit: 'weeks', on: ['friday'], at: '18:00' },
        }),
        doc('Schedule', 'paused', { cron: '0 * * * *', enabled: false }),
        doc('Task', 't', {
          objectType: 'jobs',
          target: { name: 'a' },
          action: 'ok',
          schedules: ['friday-6pm'],
        }),
        doc('Task', 'other', { objectType: 'jobs', target: { name: 'b' }, action: 'bad' }),
      ),
    },
  });
  app = fixtureServer(fixture, { apiToken: TOKEN, runFeedIntervalMs: 20 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
  await fixture.close();
});

/** Reads server-sent events from a response until `done` says enough, or fails after 10 s. */
async function readEvents(
  res: Response,
  done: (events: Array<{ event: string; data: string }>) => boolean,
): Promise<Array<{ event: string; data: string }>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; data: string }> = [];
  let buffer = '';
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no more events after 10 s: ${JSON.stringify(events)}`)),
      10_000,
    );
  });
  while (!done(events)) {
    const chunk = await Promise.race([reader.read(), deadline]).catch((err: Error) => {
      void reader.cancel();
      throw err;
    });
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data });
    }
  }
  clearTimeout(timer);
  await reader.cancel();
  return events;
}

const runsOf = (events: Array<{ data: string }>) =>
  events.map((e) => JSON.parse(e.data) as { runId: string; task: string; status: string });

describe('the dashboard API', () => {
  it('follows runs as server-sent events: the listing first, then each new run and its changes', async () => {
    await fixture.engine.runTask('t');
    await fixture.engine.whenIdle();
    const res = await fetch(`${base}/api/v1/runs?follow=1&task=t`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const started = fixture.engine.runTask('t');
    const other = fixture.engine.runTask('other');
    const events = await readEvents(
      res,
      (ev) => runsOf(ev).filter((r) => r.status === 'succeeded').length >= 2,
    );
    const runs = runsOf(events);
    const [fresh] = await started;
    await other;
    expect(events.every((e) => e.event === 'run')).toBe(true);
    // The run that existed, then the new one through to its end; never the other task's runs.
    expect(runs[0]).toMatchObject({ task: 't', status: 'succeeded' });
    expect(runs[0]!.runId).not.toBe(fresh!.runId);
    expect(runs.at(-1)).toMatchObject({ runId: fresh!.runId, status: 'succeeded' });
    expect(runs.every((r) => r.task === 't')).toBe(true);
  });

  it('follows only the statuses asked for, and needs the token like every route', async () => {
    const refused = await fetch(`${base}/api/v1/runs?follow=1`);
    expect([refused.status, await refused.json()]).toEqual([
      401,
      expect.objectContaining({ error: 'unauthorized' }),
    ]);
    const wrong = await fetch(`${base}/api/v1/runs?follow=yes`, { headers: auth });
    expect([wrong.status, await wrong.json()]).toEqual([
      400,
      expect.objectContaining({ error: 'bad_request' }),
    ]);
    const res = await fetch(`${base}/api/v1/runs?follow=1&status=failed`, { headers: auth });
    void fixture.engine.runTask('t');
    void fixture.engine.runTask('other');
    const runs = runsOf(await readEvents(res, (ev) => ev.length >= 1));
    expect(runs).toEqual([expect.objectContaining({ task: 'other', status: 'failed' })]);
    await fixture.engine.whenIdle();
  });

  it('ends open streams when the server closes', async () => {
    const res = await fetch(`${base}/api/v1/runs?follow=1`, { headers: auth });
    const reading = readEvents(res, () => false);
    await app.close();
    await expect(reading).resolves.toEqual([]);
  });

  it('lists schedules with their zone, the tasks they fire and their next firings', async () => {
    const res = await fetch(`${base}/api/v1/schedules?count=2`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      schedules: [
        {
          name: 'friday-6pm',
          timezone: 'America/New_York',
          enabled: true,
          tasks: ['t'],
          spec: expect.objectContaining({ timezone: 'America/New_York' }),
          nextFirings: [
            { at: '2026-11-27T23:00:00.000Z', local: 'Fri 2026-11-27 18:00 EST (-05:00)' },
            { at: '2026-12-04T23:00:00.000Z', local: 'Fri 2026-12-04 18:00 EST (-05:00)' },
          ],
          error: null,
        },
        {
          name: 'paused',
          timezone: 'UTC',
          enabled: false,
          tasks: [],
          spec: expect.objectContaining({ cron: '0 * * * *' }),
          nextFirings: [],
          error: null,
        },
      ],
    });
    expect((await fetch(`${base}/api/v1/schedules?count=0`, { headers: auth })).status).toBe(400);
  });

  it("lists each task's last run without its details", async () => {
    await fixture.engine.runTask('other');
    await fixture.engine.whenIdle();
    const { tasks } = (await (await fetch(`${base}/api/v1/tasks`, { headers: auth })).json()) as {
      tasks: Array<{ name: string; lastRun: Record<string, unknown> | null }>;
    };
    const byName = Object.fromEntries(tasks.map((t) => [t.name, t.lastRun]));
    expect(byName.t).toBeNull();
    expect(byName.other).toMatchObject({ status: 'failed', error: expect.stringContaining('code 3') });
    expect(byName.other).not.toHaveProperty('details');
  });

  it("says what each task's target names, from the driver registry", async () => {
    const { tasks } = (await (await fetch(`${base}/api/v1/tasks`, { headers: auth })).json()) as {
      tasks: Array<{ name: string; targetKind?: string }>;
    };
    expect(Object.fromEntries(tasks.map((t) => [t.name, t.targetKind]))).toEqual({
      t: 'objects',
      other: 'objects',
    });
  });
});

describe('the dashboard session', () => {
  const cookie = { cookie: `taskops_session=${encodeURIComponent(TOKEN)}` };
  const run = (headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/tasks/t/run',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{}',
    });

  it('logs in with the token into a secure, http-only, SameSite=Strict cookie that reads the API', async () => {
    const page = { origin: 'http://localhost:8080', host: 'localhost:8080' };
    const login = (token: string, headers: Record<string, string> = page) =>
      app.inject({ method: 'POST', url: '/api/v1/session', headers, payload: { token } });
    const wrong = await login('guess');
    expect([wrong.statusCode, wrong.headers['set-cookie']]).toEqual([401, undefined]);
    // Another page may not log a visitor in (into its own token, say) either.
    expect((await login(TOKEN, { ...page, origin: 'http://localhost:9999' })).statusCode).toBe(403);
    const ok = await login(TOKEN);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['set-cookie']).toBe(
      `taskops_session=${TOKEN}; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict`,
    );
    expect((await app.inject({ url: '/api/v1/tasks', headers: cookie })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/api/v1/tasks', headers: { cookie: 'taskops_session=nope' } })).statusCode,
    ).toBe(401);
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session' });
    expect(out.headers['set-cookie']).toContain('Max-Age=0');
  });

  it('refuses cookie-authenticated writes from another origin or without one; bearer writes need neither', async () => {
    const own = { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' };
    const foreign = await run({ ...cookie, host: own.host, origin: 'http://127.0.0.1:9999' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('http://127.0.0.1:9999'),
    });
    expect((await run({ ...cookie, host: own.host })).statusCode).toBe(403);
    expect((await run({ ...cookie, host: own.host, origin: 'null' })).statusCode).toBe(403);
    expect(await fixture.store.listRuns({ task: 't' })).toEqual([]);
    expect((await run({ ...cookie, ...own })).statusCode).toBe(202);
    expect((await run({ ...auth, host: own.host, origin: 'http://elsewhere.example' })).statusCode).toBe(202);
    await fixture.engine.whenIdle();
  });

  it('shows the login page, and only what it loads, to a visitor without a session', async () => {
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="login"');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect((await app.inject({ url: '/assets/login.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/assets/app.js' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/assets/app.js', headers: cookie })).statusCode).toBe(200);
    expect((await app.inject({ url: '/', headers: cookie })).body).toContain('/assets/app.js');
    expect((await app.inject({ url: '/assets/..%2Fpackage.json', headers: cookie })).statusCode).toBe(404);
  });
});
