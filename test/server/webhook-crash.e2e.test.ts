import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { startReceiver } from '../helpers/http-receiver.js';
import { servePerTest } from '../helpers/serve-per-test.js';
import { freePort, startServe } from '../helpers/serve-process.js';
import { until } from '../helpers/wait.js';

const t = servePerTest();

const SECRET = 'whsec_' + Buffer.from('kill -9 during a webhook backoff').toString('base64');

describe('kill -9 during a webhook backoff', () => {
  it('sends the next attempt at its planned time after a restart, with the same webhook-id and body', async () => {
    t.work = tempDir('taskops-webhook-crash-');
    t.receiver = await startReceiver();
    const arrivals: number[] = [];
    const manifests = path.join(t.work.dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(
      path.join(manifests, 'm.yaml'),
      docs(
        doc('Webhook', 'hook', {
          url: `${t.receiver.url}/hook`,
          retries: 3,
          signingSecretFrom: { env: 'HOOK_SECRET' },
        }),
        doc('Task', 'notify', {
          objectType: 'webhook',
          target: { name: 'hook' },
          action: 'send',
          params: { payload: { text: 'sync ${NAME} failed at ${DATE}', n: '${RANDOM}' } },
        }),
        doc('EventTrigger', 'on-error', { event: { type: 'syncs', name: 'error' }, tasks: ['notify'] }),
      ),
    );
    const configFile = path.join(t.work.dir, 'taskops.config.yaml');
    writeFileSync(configFile, 'secrets:\n  env: [HOOK_SECRET]\n');
    const dataDir = path.join(t.work.dir, 'data');
    const port = await freePort();
    const start = () =>
      startServe({
        globalArgs: ['--data-dir', dataDir, '--config', configFile],
        serveArgs: [manifests],
        port,
        env: { HOOK_SECRET: SECRET },
      });
    // The receiver asks for 6 s: long enough to kill the engine and start it again inside the wait.
    t.receiver.script({ status: 503, headers: { 'retry-after': '6' } });
    const record = setInterval(() => {
      while (arrivals.length < t.receiver!.requests.length) arrivals.push(Date.now());
    }, 5);

    try {
      t.server = await start();
      const res = await fetch(`${t.server.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'syncs', name: 'error', object: 'nightly "DR"' }),
      });
      expect(res.status).toBe(202);
      const url = t.server.url;
      await until(async () => {
        const body = (await (await fetch(`${url}/api/v1/runs?status=delayed`)).json()) as { runs: unknown[] };
        return body.runs.length === 1;
      }, 'the run to wait for its next attempt');
      expect(await t.server.kill('SIGKILL')).toBeNull();
      t.server = undefined;

      const store = await openStore(dataDir);
      const [delayed] = await store.listRuns({ status: ['delayed'] });
      await store.close();
      const planned = Date.parse(delayed!.nextAttemptAt!);
      expect(planned - Date.now()).toBeGreaterThan(1000);

      t.server = await start();
      await until(() => t.receiver!.requests.length === 2, 'the attempt after the restart', 20_000);
      await until(() => arrivals.length === 2, 'its arrival time');
      // Not before its time, and not much after it (timer and request latency only).
      expect(arrivals[1]!).toBeGreaterThanOrEqual(planned - 20);
      expect(arrivals[1]! - planned).toBeLessThan(1500);

      const [first, second] = t.receiver.requests;
      expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(second!.headers['webhook-id']).toBe(delayed!.delivery!.id);
      expect(Buffer.from(second!.body)).toEqual(Buffer.from(first!.body));
      expect(second!.headers['webhook-timestamp']).not.toBe(first!.headers['webhook-timestamp']);
      const verifier = new Webhook(SECRET);
      for (const request of [first!, second!]) {
        const headers = {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        };
        expect(verifier.verify(request.body, headers)).toEqual(JSON.parse(first!.body));
      }
      const finished = t.server.url;
      await until(async () => {
        const body = (await (await fetch(`${finished}/api/v1/runs?status=succeeded`)).json()) as {
          runs: Array<{ attempts: number }>;
        };
        return body.runs.length === 1 && body.runs[0]!.attempts === 2;
      }, 'the run to succeed on its second attempt');
    } finally {
      clearInterval(record);
    }
  }, 60_000);
});
