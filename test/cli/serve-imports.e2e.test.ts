import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { startReceiver } from '../helpers/http-receiver.js';
import { servePerTest } from '../helpers/serve-per-test.js';
import { startServe } from '../helpers/serve-process.js';
import { until } from '../helpers/wait.js';

/**
 * What `taskops serve` holds in memory from its start: every module it loads stays loaded. The drivers'
 * clients (axios, nodemailer) and the PostgreSQL client are left out until a run or a store URL needs them. Spawns the built serve (`npx tsc` first) with the loader hook of startup-imports.test.ts.
 */
const REGISTER = path.resolve('test/cli/load-log/register.mjs');
const LAZY = ['axios', 'nodemailer', 'pg'];

const t = servePerTest();

const loaded = (log: string, names: string[]): string[] => {
  const lines = readFileSync(log, 'utf8').split('\n');
  return names.filter((name) =>
    lines.some((l) => l.includes(`/node_modules/${name}/`) || l === `require:${name}`),
  );
};

describe('what serve loads', () => {
  it('starts without the drivers’ clients or pg, and loads axios on the first webhook', async () => {
    t.work = tempDir('taskops-serve-imports-');
    t.receiver = await startReceiver();
    const manifests = path.join(t.work.dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(
      path.join(manifests, 'm.yaml'),
      docs(
        doc('Webhook', 'hook', { url: `${t.receiver.url}/hook` }),
        doc('Task', 'notify', {
          objectType: 'webhook',
          target: { name: 'hook' },
          action: 'send',
          params: { payload: { text: 'lazily' } },
        }),
        doc('Schedule', 'nightly', { cron: '0 3 * * *' }),
        doc('EventTrigger', 'on-ping', { event: { type: 'ping', name: 'now' }, tasks: ['notify'] }),
      ),
    );
    const log = path.join(t.work.dir, 'load.log');
    t.server = await startServe({
      globalArgs: ['--data-dir', path.join(t.work.dir, 'data')],
      serveArgs: [manifests],
      nodeArgs: ['--import', REGISTER],
      env: { TASKOPS_LOAD_LOG: log },
    });
    expect(loaded(log, ['fastify', 'better-sqlite3'])).toEqual(['fastify', 'better-sqlite3']);
    expect(loaded(log, LAZY)).toEqual([]);

    const res = await fetch(`${t.server.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'ping', name: 'now' }),
    });
    expect(res.status).toBe(202);
    await until(() => t.receiver!.requests.length === 1, 'the webhook delivery');
    expect(JSON.parse(t.receiver.requests[0]!.body)).toEqual({ text: 'lazily' });
    expect(loaded(log, LAZY)).toEqual(['axios']);
  });
});
