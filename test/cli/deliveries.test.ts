import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { doc, docs } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';

const SECRET = 'whsec_' + Buffer.from('the deliveries CLI test signing key').toString('base64');
let dir: string;
let receiver: Receiver;
const cli = (...args: string[]) =>
  runCli(['--data-dir', path.join(dir, 'data'), '--config', path.join(dir, 'taskops.config.yaml'), ...args], {
    env: { HOOK_SECRET: SECRET },
  });

beforeEach(async () => {
  receiver = await startReceiver();
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-deliveries-'));
  writeFileSync(path.join(dir, 'taskops.config.yaml'), stringify({ secrets: { env: ['HOOK_SECRET'] } }));
  mkdirSync(path.join(dir, 'm'));
  writeFileSync(
    path.join(dir, 'm', 'hook.yaml'),
    docs(
      doc('Webhook', 'hook', { url: receiver.url, retries: 0, signingSecretFrom: { env: 'HOOK_SECRET' } }),
      doc('Task', 'notify', {
        objectType: 'webhook',
        target: { name: 'hook' },
        action: 'send',
        params: { payload: '{"n": 12345678901234567890, "run": "${RUN_ID}"}' },
      }),
    ),
  );
  expect((await cli('reconcile', path.join(dir, 'm'))).code).toBe(0);
});
afterEach(async () => {
  await receiver.close();
});

interface Delivery {
  runId: string;
  status: string;
  vergeosStatus: string;
  deliveryId: string;
  lastError: string;
  trigger: { kind: string; name: string };
}

describe('taskops deliveries, replay and webhooks enable', () => {
  it('lists a dead letter, replays it with the same webhook-id and body, and lists the replay', async () => {
    receiver.script({ status: 500 });
    expect((await cli('run', 'notify')).code).toBe(1);
    const failed = await cli('deliveries', '--failed', '--output', 'json');
    expect(failed.code).toBe(0);
    const [dead] = JSON.parse(failed.stdout) as Delivery[];
    expect(dead).toMatchObject({
      status: 'failed',
      vergeosStatus: 'error',
      lastError: 'HTTP 500 Internal Server Error',
    });

    const replayed = await cli('replay', dead!.runId);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/notify\s+hook\s+succeeded/);
    const [first, second] = receiver.requests;
    expect(second!.headers['webhook-id']).toBe(dead!.deliveryId);
    expect(second!.body).toBe(first!.body);
    expect(second!.body).toMatch(/^\{"n": 12345678901234567890, "run": "run_[\w-]+"\}$/);
    const headers = (r: typeof first) => ({
      'webhook-id': String(r!.headers['webhook-id']),
      'webhook-timestamp': String(r!.headers['webhook-timestamp']),
      'webhook-signature': String(r!.headers['webhook-signature']),
    });
    expect(() => new Webhook(SECRET).verify(second!.body, headers(second))).not.toThrow();

    const all = JSON.parse((await cli('deliveries', '--webhook', 'hook', '-o', 'json')).stdout) as Delivery[];
    expect(all.map((d) => [d.status, d.trigger.kind])).toEqual([
      ['succeeded', 'replay'],
      ['failed', 'manual'],
    ]);
    expect(all[0]!.trigger.name).toBe(dead!.runId);
    const table = await cli('deliveries');
    expect(table.stdout).toMatch(/succeeded \(sent\)\s+1\s+msg_\S+\s+replay of run_/);
    const logs = JSON.parse((await cli('logs', '--format', 'json')).stdout) as Array<{
      trigger: { kind: string };
    }>;
    expect(logs.map((l) => l.trigger.kind)).toEqual(['manual', 'replay']);
  });

  it('replay of an unknown run exits 1 and names it', async () => {
    const r = await cli('replay', 'run_nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no run run_nope');
  });

  it('shows a webhook disabled by 410 in status, and webhooks enable sends again', async () => {
    receiver.script({ status: 410 });
    await cli('run', 'notify');
    const refused = await cli('run', 'notify');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('disabled by the receiver (410 at');
    expect(receiver.requests).toHaveLength(1);
    expect((await cli('status')).stdout).toMatch(
      /Webhook\/hook disabled by the receiver \(410 at .*\): taskops webhooks enable hook/,
    );
    const json = JSON.parse((await cli('status', '-o', 'json')).stdout) as {
      disabledWebhooks: Record<string, unknown>;
    };
    expect(Object.keys(json.disabledWebhooks)).toEqual(['hook']);

    const enabled = await cli('webhooks', 'enable', 'hook');
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toBe('Webhook/hook enabled: deliveries are sent again\n');
    expect((await cli('run', 'notify')).code).toBe(0);
    expect(receiver.requests).toHaveLength(2);
    expect((await cli('webhooks', 'enable', 'nope')).stderr).toContain('Webhook/nope does not exist');
  });
});
