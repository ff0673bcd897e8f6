import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doc, docs, engineFixture, memoryLogger, type EngineFixture } from '../helpers/engine.js';
import { fixtureServer } from '../helpers/server.js';

const TOKEN = 'secret-token-for-tests';
const LIMIT = 4;
// A run that waits until the gate file exists: the one slot stays busy, so the next runs queue up.
const WAIT_FOR_GATE = `const f=process.argv[1];const t=setInterval(()=>{if(require('fs').existsSync(f))clearInterval(t)},20)`;

let fixture: EngineFixture;
let app: FastifyInstance;
let url: string;
let gate: string;
const log = memoryLogger();

beforeEach(async () => {
  fixture = await engineFixture({
    logger: log,
    config: {
      maxConcurrentRuns: 1,
      maxPendingWork: LIMIT,
      drivers: {
        jobs: { type: 'command', actions: { wait: ['node', '-e', WAIT_FOR_GATE, '${FIELD_gate}'] } },
      },
    },
    manifests: {
      'm.yaml': docs(
        doc('Task', 't', {
          objectType: 'jobs',
          target: { name: 'obj' },
          action: 'wait',
          concurrency: 'allow',
        }),
        doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['t'] }),
      ),
    },
  });
  gate = path.join(fixture.dir, 'gate');
  app = fixtureServer(fixture, { apiToken: TOKEN });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  if (!existsSync(gate)) writeFileSync(gate, '');
  await app.close();
  await fixture.close();
});

const post = (body: unknown) =>
  fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('back-pressure on event intake', () => {
  it('answers 429 with Retry-After above maxPendingWork, keeps the accepted events, and takes events again once drained', async () => {
    const accepted: string[] = [];
    let refused: Response | null = null;
    // Bounded: with the slot held, the queue fills within LIMIT + 1 events.
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await post({ type: 'jobs', name: 'go', fields: { gate, n: i } });
      if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
      else if (res.status === 429) refused = res;
      else throw new Error(`unexpected ${res.status}: ${await res.text()}`);
      // Let the accepted event be processed into its run before the next one comes.
      await new Promise((r) => setImmediate(r));
    }
    expect(refused, 'no 429 within 40 events').not.toBeNull();
    expect(refused!.headers.get('retry-after')).toBe('1');
    const body = (await refused!.json()) as { error: string; message: string };
    expect(body.error).toBe('overloaded');
    expect(body.message).toContain(`maxPendingWork ${LIMIT}`);
    // One run executes, at most LIMIT wait: the bound held.
    expect(accepted.length).toBeGreaterThanOrEqual(LIMIT);
    expect(accepted.length).toBeLessThanOrEqual(LIMIT + 1);
    expect(fixture.engine.pendingWork).toBeLessThanOrEqual(LIMIT);
    for (const id of accepted) expect(await fixture.store.getEvent(id), id).toBeDefined();

    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).toMatch(new RegExp(`^taskops_pending_work_limit ${LIMIT}$`, 'm'));
    expect(metrics).toMatch(/^taskops_events_refused_total 1$/m);
    expect(metrics).toMatch(new RegExp(`^taskops_pending_work [1-${LIMIT}]$`, 'm'));

    writeFileSync(gate, '');
    await fixture.engine.whenIdle();
    const runs = await fixture.store.listRuns({});
    expect(runs.filter((r) => r.status === 'succeeded').length).toBe(accepted.length);
    expect(fixture.engine.pendingWork).toBe(0);
    expect((await post({ type: 'jobs', name: 'go', fields: { gate } })).status).toBe(202);
    // The engine's own events (tasks/succeeded) were never refused while it was full.
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('never holds more than maxPendingWork under a burst of concurrent posts', async () => {
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, fixture.engine.pendingWork)), 1);
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        post({ type: 'jobs', name: 'go', fields: { gate, n } }).then((r) => r.status),
      ),
    );
    clearInterval(watch);
    const ok = statuses.filter((s) => s === 202).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(ok + refused).toBe(60);
    expect(refused).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(LIMIT);
    expect(ok).toBeLessThanOrEqual(LIMIT + 1);
    writeFileSync(gate, '');
    await fixture.engine.whenIdle();
    expect((await fixture.store.listRuns({})).length).toBe(ok);
  });
});

describe('execution under busy intake', () => {
  it('keeps running while clients post as fast as they can: at the end of intake, only the bounded backlog is left', async () => {
    const busy = await engineFixture({
      config: { maxPendingWork: 20, drivers: { jobs: { type: 'noop', actions: { ok: ['unused'] } } } },
      manifests: {
        'm.yaml': docs(
          doc('Task', 'n', {
            objectType: 'jobs',
            target: { name: 'obj' },
            action: 'ok',
            concurrency: 'allow',
          }),
          doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['n'] }),
        ),
      },
    });
    const server = fixtureServer(busy, { apiToken: TOKEN });
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      let accepted = 0;
      let refused = 0;
      // 16 clients, 15 posts each: bounded, and far more than the bound at once.
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < 15; i++) {
            const res = await fetch(`${base}/api/v1/events`, {
              method: 'POST',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              body: JSON.stringify({ type: 'jobs', name: 'go' }),
            });
            await res.arrayBuffer();
            if (res.status === 202) accepted++;
            else if (res.status === 429) refused++;
            else throw new Error(`unexpected ${res.status}`);
          }
        }),
      );
      const ended = (await busy.store.listRuns({})).filter((r) => r.status === 'succeeded').length;
      expect(accepted + refused).toBe(240);
      // Whatever was accepted and not yet run is within the bound (plus the runs executing right now).
      expect(accepted - ended).toBeLessThanOrEqual(20 + 8);
      await busy.engine.whenIdle();
      expect((await busy.store.listRuns({})).filter((r) => r.status === 'succeeded').length).toBe(accepted);
    } finally {
      await server.close();
      await busy.close();
    }
  });
});
