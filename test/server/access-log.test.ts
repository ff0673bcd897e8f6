import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doc, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { fixtureServer } from '../helpers/server.js';

const TOKEN = 'secret-token-for-tests';
let fixture: EngineFixture;

beforeEach(async () => {
  fixture = await engineFixture({
    manifests: { 'm.yaml': doc('Tag', 'gpu', { category: 'vms', members: ['vm-1'] }) },
  });
});
afterEach(async () => fixture.close());

/** The server logging to memory at `level`; returns the parsed log lines. */
async function requestsAt(level: string): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const app = fixtureServer(fixture, { apiToken: TOKEN, logger: pino({ level }, sink) });
  try {
    for (let i = 0; i < 5; i++) {
      const ok = await app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { type: 'bench', name: 'ping' },
      });
      expect(ok.statusCode).toBe(202);
    }
    expect((await app.inject({ url: '/api/v1/status' })).statusCode).toBe(401);
  } finally {
    await app.close();
  }
  return lines;
}

describe('request logging', () => {
  it('logs nothing per accepted request at info, but does log a refused one', async () => {
    const lines = await requestsAt('info');
    expect(lines.map((l) => l.msg)).toEqual(['request refused or failed']);
    expect(lines[0]).toMatchObject({ method: 'GET', url: '/api/v1/status', status: 401 });
  });

  it('logs one line per request at debug', async () => {
    const lines = (await requestsAt('debug')).filter((l) => typeof l.status === 'number');
    expect(lines.length).toBe(6);
    expect(lines.filter((l) => l.msg === 'request' && l.status === 202).length).toBe(5);
  });
});
