import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWebhookDriver } from '../../../src/engine/drivers/index.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { ANY_SECRET, eachTestReceiver, recordingDeps, webhookTask } from './webhook-fixtures.js';

const peer = eachTestReceiver();

const deliver = (spec: Parameters<typeof driverRequest>[1] = {}, env: NodeJS.ProcessEnv = {}) => {
  peer.driver = createWebhookDriver(recordingDeps({ env }), { secrets: ANY_SECRET });
  return peer.driver.run(driverRequest(webhookTask(), { webhookSpec: { url: peer.receiver.url }, ...spec }));
};

describe('webhook driver: request shape', () => {
  it('POSTs the expanded payload as JSON with no auth header by default', async () => {
    const result = await deliver();
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const [req] = peer.receiver.requests;
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.authorization).toBeUndefined();
    expect(JSON.parse(req?.body ?? '')).toEqual({
      text: 'Sync Error Alert: gpu-ws-01 failed at Thu, 16 Oct 2025 11:38:07 EDT',
    });
  });

  it('records each attempt with its response status', async () => {
    const result = await deliver();
    expect(result.details).toMatchObject({ attempts: [{ attempt: 1, status: 200, at: expect.any(String) }] });
  });

  it.each([
    ['quotes and a backslash', 'vm "a" \\ b'],
    ['a newline', 'line1\nline2'],
    ['a script tag', '</script><script>alert(1)</script>'],
    ['unicode and emoji', 'Jürgen 機械 🚀'],
  ])('delivers valid JSON when the object name holds %s', async (_what, name) => {
    peer.driver = createWebhookDriver(recordingDeps());
    const req = driverRequest(webhookTask({ text: '${NAME} failed', who: { name: '${NAME}' } }), {
      webhookSpec: { url: peer.receiver.url },
      target: name,
    });
    expect((await peer.driver.run(req)).ok).toBe(true);
    expect(JSON.parse(peer.receiver.requests[0]?.body ?? '')).toEqual({
      text: `${name} failed`,
      who: { name },
    });
  });

  it('sends custom headers and keeps the JSON content type unless one is given', async () => {
    await deliver({ webhookSpec: { url: peer.receiver.url, headers: { 'X-Team': 'ops' } } });
    await deliver({
      webhookSpec: { url: peer.receiver.url, headers: { 'Content-Type': 'application/vnd.ops+json' } },
    });
    expect(peer.receiver.requests[0]?.headers['x-team']).toBe('ops');
    expect(peer.receiver.requests[0]?.headers['content-type']).toBe('application/json');
    expect(peer.receiver.requests[1]?.headers['content-type']).toBe('application/vnd.ops+json');
  });

  it('reuses one keep-alive connection across deliveries', async () => {
    peer.driver = createWebhookDriver(recordingDeps());
    for (let i = 0; i < 5; i++) {
      await peer.driver.run(driverRequest(webhookTask(), { webhookSpec: { url: peer.receiver.url } }));
    }
    expect(peer.receiver.requests).toHaveLength(5);
    expect(peer.receiver.connections()).toBe(1);
  });

  it('reads the URL from urlFrom at run time', async () => {
    const result = await deliver(
      { webhookSpec: { urlFrom: { env: 'HOOK_URL' } } },
      { HOOK_URL: `${peer.receiver.url}/services/T0/B0` },
    );
    expect(result.ok).toBe(true);
    expect(peer.receiver.requests[0]?.path).toBe('/services/T0/B0');
  });
});

describe('webhook driver: authentication', () => {
  it('sends a bearer token read from the environment', async () => {
    await deliver(
      { webhookSpec: { url: peer.receiver.url, auth: { type: 'bearer', tokenFrom: { env: 'TOK' } } } },
      { TOK: 't-123' },
    );
    expect(peer.receiver.requests[0]?.headers.authorization).toBe('Bearer t-123');
  });

  it('sends an API key in the configured header, read from a file without its trailing newline', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskops-secret-')), 'key');
    writeFileSync(file, 'k-456\n');
    await deliver({
      webhookSpec: {
        url: peer.receiver.url,
        auth: { type: 'apiKey', apiKey: { header: 'X-Hook-Key', valueFrom: { file } } },
      },
    });
    expect(peer.receiver.requests[0]?.headers['x-hook-key']).toBe('k-456');
  });

  it('defaults the API key header to X-API-Key', async () => {
    await deliver(
      {
        webhookSpec: {
          url: peer.receiver.url,
          auth: { type: 'apiKey', apiKey: { valueFrom: { env: 'K' } } },
        },
      },
      { K: 'k-1' },
    );
    expect(peer.receiver.requests[0]?.headers['x-api-key']).toBe('k-1');
  });

  it('sends basic auth as base64 of user:password in UTF-8', async () => {
    await deliver(
      {
        webhookSpec: {
          url: peer.receiver.url,
          auth: { type: 'basic', username: 'svc', passwordFrom: { env: 'PW' } },
        },
      },
      { PW: 'pä:ss wörd' },
    );
    const header = peer.receiver.requests[0]?.headers.authorization ?? '';
    expect(header.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(header.slice(6), 'base64').toString('utf8')).toBe('svc:pä:ss wörd');
  });
});

describe('webhook driver: secrets stay secret', () => {
  it('fails without sending when a secret is missing, naming the reference', async () => {
    const result = await deliver({
      webhookSpec: { url: peer.receiver.url, auth: { type: 'bearer', tokenFrom: { env: 'MISSING_TOKEN' } } },
    });
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toBe(
      'webhook test-hook: secret {env: MISSING_TOKEN} is not set in the engine environment',
    );
    expect(peer.receiver.requests).toHaveLength(0);
  });

  it('never shows the token or a secret URL in errors or attempt records', async () => {
    peer.receiver.script({ status: 401, body: 'bad token t-secret-999' });
    const result = await deliver(
      {
        webhookSpec: {
          urlFrom: { env: 'HOOK_URL' },
          auth: { type: 'bearer', tokenFrom: { env: 'TOK' } },
        },
      },
      { TOK: 't-secret-999', HOOK_URL: `${peer.receiver.url}/services/SECRETPATH` },
    );
    expect(result.ok).toBe(false);
    const everything = JSON.stringify(result);
    expect(everything).not.toContain('t-secret-999');
    expect(everything).not.toContain('SECRETPATH');
    expect(result.error).toMatch(/HTTP 401/);
  });

  it('refuses a urlFrom value that is not an http(s) URL, without quoting it', async () => {
    const result = await deliver(
      { webhookSpec: { urlFrom: { env: 'HOOK_URL' } } },
      { HOOK_URL: 'file:///etc/SECRETPATH' },
    );
    expect(result).toMatchObject({
      ok: false,
      attempts: 0,
      error: 'webhook test-hook: the URL read from {env: HOOK_URL} is not an http:// or https:// URL',
    });
  });

  it('redacts a secret URL that a transport error would quote', async () => {
    const result = await deliver(
      { webhookSpec: { urlFrom: { env: 'HOOK_URL' }, retries: 0 } },
      { HOOK_URL: 'http://not a url/SECRETPATH' },
    );
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('SECRETPATH');
  });
});
