import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/server/index.js';
import { runCli } from '../helpers/cli.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { plainRequest, rawClient, type RawClient } from '../helpers/raw-http.js';
import { fixtureServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

// The attacker's side of the API: each test is an attack that worked before the API was hardened.

const TOKEN = 'security-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** Small limits so that timeouts and the connection cap show within a second. */
const FAST: ServerOptions['limits'] = {
  requestTimeoutMs: 600,
  headersTimeoutMs: 400,
  idleTimeoutMs: 300,
  maxConnections: 32,
  timeoutCheckIntervalMs: 50,
};

let fixture: EngineFixture;
let apps: FastifyInstance[] = [];
let clients: RawClient[] = [];

beforeEach(async () => {
  fixture = await engineFixture({
    config: { drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', 'process.exit(0)'] } } } },
    manifests: {
      'm.yaml': docs(doc('Task', 't', { objectType: 'jobs', target: { name: 'obj' }, action: 'ok' })),
    },
  });
});
afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
  await fixture.close();
});

function server(apiToken: string | null, extra: Partial<ServerOptions> = {}): FastifyInstance {
  const app = fixtureServer(fixture, { apiToken, ...extra });
  apps.push(app);
  return app;
}

/** A real listener on 127.0.0.1 (port 0), for the attacks where socket behaviour matters. */
async function listening(apiToken: string | null, extra: Partial<ServerOptions> = {}): Promise<number> {
  const app = server(apiToken, { limits: FAST, ...extra });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

async function client(port: number): Promise<RawClient> {
  const c = await rawClient(port);
  clients.push(c);
  return c;
}

const runsOf = async (task: string) => (await fixture.store.listRuns({ task, limit: 10, offset: 0 })).length;

describe('authentication comes before the body', () => {
  it('answers an unauthenticated bad body with 401, not 400', async () => {
    const app = server(TOKEN);
    for (const [method, url, payload] of [
      ['POST', '/api/v1/events', '{oops'],
      ['POST', '/api/v1/events', '{"type":"NOT VALID"}'],
      ['PUT', '/api/v1/objects/Tag/x', '{"spec": 1, "extra": true}'],
    ] as const) {
      const res = await app.inject({ method, url, payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode, `${method} ${url} ${payload}`).toBe(401);
      expect(res.json()).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('never reads the body of an unauthorised request: 401 before the body arrives, then closes', async () => {
    const port = await listening(TOKEN);
    const c = await client(port);
    c.write(
      'POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        'content-length: 50000\r\n\r\n',
    );
    await until(() => c.received().includes('\r\n\r\n'), 'the 401', 2000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(await c.closed).toBeLessThan(2000);
  });
});

describe('timeouts and the connection cap', () => {
  it('cuts a body trickled byte by byte at the request timeout', async () => {
    const port = await listening(TOKEN);
    const c = await client(port);
    c.write(
      `POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n` +
        'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
    );
    c.trickle(' ', 50);
    const after = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    expect(after, 'the server kept the slow body open').toBeGreaterThan(0);
    expect(after).toBeGreaterThanOrEqual(500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts headers trickled line by line at the header timeout', async () => {
    const port = await listening(TOKEN);
    const c = await client(port);
    c.write('GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    c.trickle('x-slow: 1\r\n', 50);
    const after = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    expect(after, 'the server kept the slow headers open').toBeGreaterThan(0);
    expect(after).toBeGreaterThanOrEqual(300);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after the idle timeout', async () => {
    const port = await listening(TOKEN);
    const c = await client(port);
    c.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n');
    await until(() => c.received().includes('"ok"'), 'the answer', 2000);
    const after = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    expect(after, 'the idle connection stayed open').toBeGreaterThan(0);
    // Node adds a second of grace to the keep-alive timeout.
    expect(after).toBeGreaterThanOrEqual(300);
  });

  it('keeps serving an authorised client while 300 slow connections try to hold the server', async () => {
    const port = await listening(TOKEN);
    const slow = await Promise.all(Array.from({ length: 300 }, () => client(port)));
    for (const c of slow) {
      c.write('POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      c.trickle('x-slow: 1\r\n', 100);
    }
    // The server refuses connections over the cap at once and cuts the others at the header timeout.
    await until(() => slow.every((c) => c.isClosed()), 'every slow connection closed by the server', 4000);
    const started = Date.now();
    const served = await until(
      () =>
        plainRequest(port, { path: '/api/v1/status', headers: auth }).then(
          (r) => r.status === 200,
          () => false,
        ),
      'the authorised client served',
      3000,
    );
    expect(served).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('holds at most maxConnections sockets', async () => {
    // Long timeouts here, so that only the cap closes connections.
    const port = await listening(TOKEN, {
      limits: { ...FAST, headersTimeoutMs: 10_000, requestTimeoutMs: 10_000, socketTimeoutMs: 10_000 },
    });
    const opened = await Promise.all(Array.from({ length: 40 }, () => client(port)));
    for (const c of opened) c.write('GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await until(
      () => opened.filter((c) => c.isClosed()).length >= 8,
      'the connections over the cap refused',
      2000,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(opened.filter((c) => c.isClosed())).toHaveLength(8);
  });

  it('sheds load with 503 and Retry-After under pressure, but keeps the liveness probe', async () => {
    const app = server(TOKEN, { limits: { maxHeapUsedBytes: 1, pressureSampleIntervalMs: 10 } });
    const shed = await until(
      async () => {
        const res = await app.inject({ url: '/api/v1/status', headers: auth });
        return res.statusCode === 503 ? res : null;
      },
      'a shed request',
      2000,
    );
    expect(shed.headers['retry-after']).toMatch(/^\d+$/);
    expect(shed.json()).toMatchObject({ error: 'unavailable' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('only JSON bodies (CSRF)', () => {
  it('refuses a text/plain, form or multipart POST to run a task with 415, and runs nothing', async () => {
    for (const token of [null, TOKEN]) {
      const app = server(token);
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/tasks/t/run',
          headers: { 'content-type': type, ...(token ? auth : {}) },
          payload: type.startsWith('multipart') ? '--x\r\n\r\n--x--\r\n' : 'a=1',
        });
        expect(res.statusCode, type).toBe(415);
        expect(res.json()).toEqual({
          error: 'unsupported_media_type',
          message: `POST bodies must be application/json (got ${type.split(';')[0]})`,
        });
      }
    }
    expect(await runsOf('t')).toBe(0);
  });

  it('still takes a POST with no body, and JSON with a charset parameter', async () => {
    const app = server(TOKEN);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sync', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/tasks/t/run', headers: auth })).statusCode).toBe(
      202,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      payload: '{"type":"jobs","name":"go"}',
    });
    expect(res.statusCode).toBe(202);
  });
});

describe('no-token loopback mode (DNS rebinding, CSRF)', () => {
  it('refuses a foreign Host with 403 on a real listener', async () => {
    const port = await listening(null);
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      '127.0.0.1.evil.example',
      'localhost.evil.example',
    ]) {
      const res = await plainRequest(port, { path: '/api/v1/objects', headers: { host } });
      expect(res.status, host).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'forbidden' });
      expect(res.body).not.toContain('"objects"');
    }
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `127.3.2.1:${port}`,
      `[::1]:${port}`,
      'localhost',
    ]) {
      expect((await plainRequest(port, { path: '/api/v1/objects', headers: { host } })).status, host).toBe(
        200,
      );
    }
  });

  it('refuses a foreign Origin with 403 and runs nothing', async () => {
    const app = server(null);
    for (const origin of ['https://evil.example', 'http://localhost:3000', 'null', 'http://127.0.0.1']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/tasks/t/run',
        headers: { host: '127.0.0.1:8080', origin },
      });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json()).toMatchObject({ error: 'forbidden' });
    }
    expect(await runsOf('t')).toBe(0);
    const same = await app.inject({
      method: 'POST',
      url: '/api/v1/tasks/t/run',
      headers: { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
    });
    expect(same.statusCode).toBe(202);
  });

  it('does not restrict Host when a token is set (behind a proxy)', async () => {
    const app = server(TOKEN);
    const res = await app.inject({
      url: '/api/v1/status',
      headers: { ...auth, host: 'taskops.internal.example' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('sends the usual security headers, on refusals too', async () => {
    const app = server(TOKEN);
    for (const res of [
      await app.inject({ url: '/api/v1/status' }),
      await app.inject({ url: '/api/v1/status', headers: auth }),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(String(res.headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
    }
  });
});

describe('nesting in API bodies', () => {
  const nested = (depth: number, open: string, close: string, leaf: string) =>
    open.repeat(depth) + leaf + close.repeat(depth);

  it('refuses a PUT spec nested 5,000 deep and an event nested 30,000 deep with 400', async () => {
    const app = server(TOKEN);
    const cases = [
      ['PUT', '/api/v1/objects/Tag/deep', `{"spec":${nested(5000, '{"a":', '}', '1')}}`],
      [
        'POST',
        '/api/v1/events',
        `{"type":"jobs","name":"go","fields":{"f":${nested(30_000, '[', ']', '1')}}}`,
      ],
    ] as const;
    for (const [method, url, payload] of cases) {
      const res = await app.inject({
        method,
        url,
        payload,
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ error: 'bad_request' });
      expect((res.json() as { message: string }).message).toMatch(
        /^the request body nests deeper than 32 levels \(at character \d+\)/,
      );
    }
    expect(await fixture.store.getObject('Tag', 'deep')).toBeUndefined();
  });
});

describe('the API token', () => {
  const BIN = path.resolve('bin/taskops.js');
  const serve = (args: string[], env: Record<string, string>) => {
    const work = tempDir('taskops-token-');
    try {
      return spawnSync(
        process.execPath,
        [BIN, '--data-dir', path.join(work.dir, 'd'), 'serve', work.dir, '--listen', '127.0.0.1:0', ...args],
        { encoding: 'utf8', env: { ...process.env, TASKOPS_API_TOKEN: '', ...env }, timeout: 10_000 },
      );
    } finally {
      work.cleanup();
    }
  };

  it('refuses to start with an empty or whitespace-only token file', () => {
    const work = tempDir('taskops-token-');
    try {
      for (const content of ['', '  \n\t\n']) {
        const file = path.join(work.dir, 'token');
        writeFileSync(file, content);
        const r = serve(['--api-token-file', file], {});
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr).toContain(`the API token file ${file} is empty`);
      }
    } finally {
      work.cleanup();
    }
  });

  it('refuses to start with TASKOPS_API_TOKEN set to whitespace', () => {
    const r = serve([], { TASKOPS_API_TOKEN: '  ' });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('TASKOPS_API_TOKEN is set but blank');
  });

  it('refuses a blank or multi-line token file in the clients too, before sending anything', async () => {
    const work = tempDir('taskops-token-');
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      received.push(String(req.headers.authorization));
      res.end('{}');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    try {
      for (const [content, message] of [
        [' \n', 'is empty'],
        ['abc\ndef\n', 'holds control or non-ASCII characters'],
      ] as const) {
        const file = path.join(work.dir, 'token');
        writeFileSync(file, content);
        const r = await runCli(['run', 't', '--server', url, '--api-token-file', file]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(message);
      }
      expect(received).toEqual([]);
    } finally {
      await new Promise((r) => receiver.close(r));
      work.cleanup();
    }
  });

  it('says plainly that a token file is missing', () => {
    const r = serve(['--api-token-file', '/nonexistent/taskops-token'], {});
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      'cannot read the API token file /nonexistent/taskops-token: it does not exist',
    );
    expect(r.stderr).not.toContain('ENOENT');
  });
});
