import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net, { type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDriverRegistry, createWebhookDriver } from '../../src/engine/drivers/index.js';
import { destinationPolicy, resolveDestination } from '../../src/engine/drivers/destination-guard.js';
import { validateObject } from '../../src/manifest/index.js';
import type { WebhookSpec } from '../../src/manifest/types.js';
import { runCli } from '../helpers/cli.js';
import { driverRequest } from '../helpers/driver-request.js';
import { doc, docs, engineFixture } from '../helpers/engine.js';
import { eachTestReceiver, recordingDeps, webhookTask } from '../engine/drivers/webhook-fixtures.js';

/** A committer's manifests in a fresh folder; returns the folder for `taskops validate`. */
function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-sec-webhook-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const webhookYaml = (headerLines: string[]) =>
  [
    'apiVersion: taskops/v1',
    'kind: Webhook',
    'metadata: {name: hook}',
    'spec:',
    '  url: http://127.0.0.1:9/hook',
    '  headers:',
    ...headerLines.map((l) => `    ${l}`),
    '',
  ].join('\n');

const taskYaml = (payloadLines: string[]) =>
  [
    'apiVersion: taskops/v1',
    'kind: Task',
    'metadata: {name: notify}',
    'spec:',
    '  objectType: webhook',
    '  target: {name: hook}',
    '  action: send',
    '  params:',
    ...payloadLines.map((l) => `    ${l}`),
    '',
  ].join('\n');

const HOOK = webhookYaml(['content-type: application/json']);

const peer = eachTestReceiver();

/** Runs the webhook driver on a spec as a hand-written store holds it: nothing validated it. */
function deliverUnvalidated(webhookSpec: Partial<WebhookSpec>, payload?: unknown, fields = {}) {
  peer.driver = createWebhookDriver(recordingDeps());
  const req = driverRequest(webhookTask(payload), {
    webhookSpec: { url: peer.receiver.url, retries: 3, ...webhookSpec },
    vars: { event: { type: 'users', name: 'login', fields } },
  });
  return peer.driver.run(req);
}

describe('attack: a committer sets the headers that frame the request', () => {
  it('validate refuses Host, Content-Length, Transfer-Encoding and Connection at their line, in any case', async () => {
    const dir = repo({
      'hook.yaml': webhookYaml([
        'Host: internal.example',
        'content-length: "3"',
        'Transfer-Encoding: chunked',
        'CONNECTION: close',
      ]),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const at = (line: number, header: string) =>
      lines.find((l) => l.includes(`hook.yaml:${line}:5: Webhook/hook: header ${header} is reserved`));
    expect(at(7, 'Host')).toBeDefined();
    expect(at(8, 'content-length')).toBeDefined();
    expect(at(9, 'Transfer-Encoding')).toBeDefined();
    expect(at(10, 'CONNECTION')).toBeDefined();
  });

  it('validate refuses a reserved header chosen as the apiKey header', async () => {
    const dir = repo({
      'hook.yaml': [
        'apiVersion: taskops/v1',
        'kind: Webhook',
        'metadata: {name: hook}',
        'spec:',
        '  url: http://127.0.0.1:9/hook',
        '  auth: {type: apiKey, apiKey: {header: Content-Length, valueFrom: {env: K}}}',
        '',
      ].join('\n'),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/hook\.yaml:6:\d+: Webhook\/hook: header Content-Length is reserved/);
  });

  it.each([
    ['Host', { Host: 'internal.example' }],
    ['Content-Length', { 'Content-Length': '3' }],
    ['Transfer-Encoding', { 'transfer-encoding': 'chunked' }],
    ['Connection', { Connection: 'close' }],
  ])('the engine refuses a hand-written %s header and sends nothing', async (header, headers) => {
    const result = await deliverUnvalidated({ headers });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(0);
    expect(result.error).toContain(`header ${Object.keys(headers)[0]} is reserved`);
    expect(peer.receiver.requests, `${header} must not reach the receiver`).toHaveLength(0);
  });

  it('the engine frames the request itself: Host from the URL, Content-Length from the body', async () => {
    const result = await deliverUnvalidated({ headers: { 'X-Team': 'ops' } });
    expect(result.ok).toBe(true);
    const [req] = peer.receiver.requests;
    expect(req?.headers.host).toBe(new URL(peer.receiver.url).host);
    expect(req?.headers['content-length']).toBe(String(Buffer.byteLength(req?.body ?? '')));
    expect(req?.headers['transfer-encoding']).toBeUndefined();
    expect(req?.headers['x-team']).toBe('ops');
  });
});

describe('attack: header names and values that are not HTTP', () => {
  it('validate refuses names that are not RFC 9110 tokens, at the name', async () => {
    const dir = repo({
      'hook.yaml': webhookYaml(['"X Bad": v', '"X-Colon:": v', '"Ünïcode": v', '"": v']),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    for (const [line, name] of [
      [7, 'X Bad'],
      [8, 'X-Colon:'],
      [9, 'Ünïcode'],
      [10, ''],
    ] as const) {
      expect(r.stdout).toContain(
        `hook.yaml:${line}:5: Webhook/hook: header name ${JSON.stringify(name)} is not a valid HTTP header name`,
      );
    }
  });

  it('validate refuses CR/LF, NUL and non-ASCII values, at the value', async () => {
    const dir = repo({
      'hook.yaml': webhookYaml([
        'X-Split: "ok\\r\\nX-Injected: yes"',
        'X-Nul: "a\\0b"',
        'X-Arrow: "a → b"',
        'X-Fine: "plain text\\twith a tab"',
      ]),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    for (const [line, name] of [
      [7, 'X-Split'],
      [8, 'X-Nul'],
      [9, 'X-Arrow'],
    ] as const) {
      expect(r.stdout).toMatch(
        new RegExp(`hook\\.yaml:${line}:\\d+: Webhook/hook: spec\\.headers\\.${name} must be printable`),
      );
    }
    expect(r.stdout).not.toContain('X-Fine');
  });

  it('the engine refuses a hand-written CR/LF value and sends nothing', async () => {
    const result = await deliverUnvalidated({ headers: { 'X-Split': 'ok\r\nX-Injected: yes' } });
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toContain('header X-Split');
    expect(peer.receiver.requests).toHaveLength(0);
  });

  it('the engine refuses a hand-written invalid header name and sends nothing', async () => {
    const result = await deliverUnvalidated({ headers: { 'X Bad': 'v' } });
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toContain('header name "X Bad"');
    expect(peer.receiver.requests).toHaveLength(0);
  });
});

describe('attack: a variable used as a JSON key shadows another key', () => {
  it('validate refuses a variable in a key of a JSON text payload', async () => {
    const dir = repo({
      'hook.yaml': HOOK,
      'task.yaml': taskYaml([`payload: '{"role": "viewer", "\${FIELD_x}": "admin"}'`]),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      // At the key itself inside the JSON text (column 14 is where the payload's quote opens).
      /task\.yaml:9:34: Task\/notify: payload key "\$\{FIELD_x\}" uses a variable; variables are allowed in JSON values only/,
    );
  });

  it('validate refuses a variable in a key of a YAML mapping payload, at the key', async () => {
    const dir = repo({
      'hook.yaml': HOOK,
      'task.yaml': taskYaml(['payload:', '  role: viewer', '  "${NAME}": admin']),
    });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'task.yaml:11:7: Task/notify: payload key "${NAME}" uses a variable; variables are allowed in JSON values only',
    );
  });

  it('the engine never lets an event field become a key (hand-written store)', async () => {
    const result = await deliverUnvalidated({}, { role: 'viewer', '${FIELD_x}': 'admin' }, { x: 'role' });
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toContain('uses a variable');
    expect(peer.receiver.requests).toHaveLength(0);
  });

  it('a literal ${ in a key is still fine, written $${', async () => {
    const result = await deliverUnvalidated({}, { '$${NAME}': '${NAME}' });
    expect(result.ok).toBe(true);
    expect(JSON.parse(peer.receiver.requests[0]?.body ?? '')).toEqual({ '${NAME}': 'gpu-ws-01' });
  });
});

describe('attack: nesting that overflows the stack', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('validate refuses a JSON payload nested 30,000 deep with file:line, not a stack overflow', async () => {
    const dir = repo({ 'hook.yaml': HOOK, 'task.yaml': taskYaml([`payload: '${deep(30_000)}'`]) });
    const r = await runCli(['validate', dir]);
    expect(r.code).toBe(1);
    // At the 33rd opening bracket inside the JSON text.
    expect(r.stdout).toMatch(/task\.yaml:9:47: Task\/notify: payload nests deeper than 32 levels/);
    expect(r.stdout + r.stderr).not.toMatch(/call stack|RangeError/);
  });

  it('an object made through the API with a 5,000-deep spec is refused with a message', () => {
    let spec: Record<string, unknown> = {};
    for (let i = 0; i < 5_000; i++) spec = { a: spec };
    const checked = validateObject('Task', { name: 'deep' }, spec, [], { defaultZone: 'UTC' });
    expect(checked.manifest).toBeUndefined();
    expect(checked.problems).toEqual([expect.stringMatching(/^spec nests deeper than 32 levels/)]);
  });

  it('the engine refuses a hand-written payload nested 30,000 deep as a run failure', async () => {
    const payload = JSON.parse(deep(30_000)) as unknown;
    const result = await deliverUnvalidated({}, payload);
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toContain('nests deeper than 32 levels');
    const asText = await deliverUnvalidated({}, deep(30_000));
    expect(asText.error).toContain('nests deeper than 32 levels');
    expect(peer.receiver.requests).toHaveLength(0);
  });
});

/**
 * Every socket the process opens fails at once instead of connecting: a test of a refused destination can
 * never send a packet to it, even if the guard were broken. Returns the sockets that tried.
 */
function trapConnects() {
  const tried: unknown[] = [];
  const spy = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    tried.push(args[0]);
    process.nextTick(() => this.destroy(new Error('test trap: connect blocked')));
    return this;
  });
  return { tried, restore: () => spy.mockRestore() };
}

/** A resolver that answers from a table and records each name it is asked for. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup: LookupFunction = (host, options, callback) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      callback(err, '', 0);
      return;
    }
    const all = addresses.map((address) => ({ address, family: net.isIP(address) }));
    if (options.all) callback(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  };
  return { asked, lookup };
}

describe('the destination guard (unit: no sockets at all)', () => {
  const open = destinationPolicy();

  it.each([
    ['169.254.169.254', 'AWS/GCP/Azure metadata'],
    ['169.254.170.2', 'ECS task metadata (link-local)'],
    ['fe80::1', 'IPv6 link-local'],
    ['fd00:ec2::254', 'AWS metadata over IPv6'],
    ['100.100.100.200', 'Alibaba metadata'],
    ['::ffff:169.254.169.254', 'IPv4-mapped IPv6 form of the metadata address'],
  ])('refuses %s (%s) by default', (address) => {
    expect(open.checkAddress(address, address)).toMatch(/link-local or cloud metadata address/);
  });

  it.each(['127.0.0.1', '::1', '10.1.2.3', '192.168.1.20', '8.8.8.8'])(
    'allows %s by default: loopback and LAN receivers are common',
    (address) => {
      expect(open.checkAddress(address, address)).toBeNull();
    },
  );

  it('refuses metadata service names before resolving them', () => {
    expect(open.checkName('metadata.google.internal')).toMatch(/cloud metadata service/);
    expect(open.checkName('Metadata.Google.Internal.')).toMatch(/cloud metadata service/);
    expect(open.checkName('hooks.example.com')).toBeNull();
  });

  it('resolves, then refuses a name whose answer is a metadata address (DNS rebinding)', async () => {
    const dns = fakeDns({ 'rebind.test': ['93.184.216.34', '169.254.169.254'] });
    await expect(resolveDestination('rebind.test', open, dns.lookup)).rejects.toThrow(
      'rebind.test resolves to 169.254.169.254, which is a link-local or cloud metadata address',
    );
    expect(dns.asked).toEqual(['rebind.test']);
  });

  it('with allowDestinations: listed names, wildcards, addresses and ranges only', () => {
    const policy = destinationPolicy(['hooks.slack.com', '*.example.com', '10.20.0.0/16', '192.168.1.5']);
    expect(policy.checkName('hooks.slack.com')).toBeNull();
    expect(policy.checkAddress('hooks.slack.com', '52.1.2.3')).toBeNull();
    expect(policy.checkAddress('a.b.example.com', '52.1.2.3')).toBeNull();
    expect(policy.checkAddress('example.com', '52.1.2.3')).toMatch(/not in webhooks\.allowDestinations/);
    expect(policy.checkAddress('svc.lan', '10.20.3.4')).toBeNull();
    expect(policy.checkAddress('192.168.1.5', '192.168.1.5')).toBeNull();
    expect(policy.checkAddress('192.168.1.6', '192.168.1.6')).toMatch(/192\.168\.1\.6 is not in/);
    // A listed name never reaches a metadata address: its DNS answer is not the operator's to trust.
    expect(policy.checkAddress('hooks.slack.com', '169.254.169.254')).toMatch(/metadata address/);
  });

  it('reaches a link-local address only when its address or range is listed', () => {
    const policy = destinationPolicy(['169.254.10.0/24']);
    expect(policy.checkAddress('169.254.10.7', '169.254.10.7')).toBeNull();
    expect(policy.checkAddress('169.254.169.254', '169.254.169.254')).toMatch(/metadata address/);
  });

  it('refuses an unlisted name without asking DNS when only names are listed', async () => {
    const dns = fakeDns({ 'other.test': ['127.0.0.1'] });
    const policy = destinationPolicy(['hooks.slack.com']);
    await expect(resolveDestination('other.test', policy, dns.lookup)).rejects.toThrow(
      'other.test is not in webhooks.allowDestinations',
    );
    expect(dns.asked).toEqual([]);
  });
});

describe('attack: a webhook aimed at the cloud metadata service', () => {
  let trap: ReturnType<typeof trapConnects> | undefined;
  afterEach(() => {
    trap?.restore();
    trap = undefined;
  });

  it('is refused on the resolved address before any socket is opened, and not retried', async () => {
    const dns = fakeDns({ 'innocent.test': ['169.254.169.254'] });
    trap = trapConnects();
    peer.driver = createWebhookDriver(recordingDeps({ lookup: dns.lookup }));
    const result = await peer.driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: 'http://innocent.test/latest/meta-data/', retries: 3 },
      }),
    );
    trap.restore();
    expect(dns.asked).toEqual(['innocent.test']);
    expect(trap.tried).toEqual([]);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toContain(
      'innocent.test resolves to 169.254.169.254, which is a link-local or cloud metadata address',
    );
    expect(result.error).toContain('not retried');
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://metadata.google.internal/',
  ])('refuses %s before resolving or connecting', async (url) => {
    const dns = fakeDns({});
    trap = trapConnects();
    peer.driver = createWebhookDriver(recordingDeps({ lookup: dns.lookup }));
    const result = await peer.driver.run(driverRequest(webhookTask(), { webhookSpec: { url } }));
    trap.restore();
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toMatch(/metadata/);
    expect(dns.asked).toEqual([]);
    expect(trap.tried).toEqual([]);
  });

  it('through the engine: the config and the resolver reach the driver, and each run fails with its refusal', async () => {
    const dns = fakeDns({ 'innocent.test': ['169.254.169.254'] });
    const task = (name: string, webhook: string) =>
      doc('Task', name, {
        objectType: 'webhook',
        target: { name: webhook },
        action: 'send',
        params: { payload: { x: '${NAME}' } },
      });
    const fixture = await engineFixture({
      manifests: {
        'all.yaml': docs(
          doc('Webhook', 'exfil', { url: 'http://innocent.test/latest/meta-data/iam/', retries: 2 }),
          doc('Webhook', 'local', { url: peer.receiver.url, retries: 2 }),
          task('steal', 'exfil'),
          task('notify', 'local'),
        ),
      },
      config: { webhooks: { allowDestinations: ['innocent.test', '10.20.0.0/16'] } },
      driverDeps: { lookup: dns.lookup },
    });
    try {
      trap = trapConnects();
      const [steal] = await fixture.engine.runTask('steal');
      await fixture.engine.whenIdle();
      trap.restore();
      const stolen = await fixture.store.getRun(steal!.runId);
      expect(stolen).toMatchObject({ status: 'failed', attempts: 1 });
      expect(stolen?.error).toContain('innocent.test resolves to 169.254.169.254');
      expect(dns.asked).toEqual(['innocent.test']);
      expect(trap.tried).toEqual([]);

      const [notify] = await fixture.engine.runTask('notify');
      await fixture.engine.whenIdle();
      const local = await fixture.store.getRun(notify!.runId);
      expect(local).toMatchObject({ status: 'failed' });
      expect(local?.error).toContain('127.0.0.1 is not in webhooks.allowDestinations');
      expect(peer.receiver.requests).toHaveLength(0);
    } finally {
      trap?.restore();
      await fixture.close();
    }
  });
});

describe('attack: webhooks.allowDestinations restricts where deliveries go', () => {
  const registryDriver = (allowDestinations: string[], lookup?: LookupFunction) => {
    const registry = createDriverRegistry(
      { webhooks: { allowDestinations } },
      recordingDeps(lookup ? { lookup } : {}),
    );
    const webhook = registry.get('webhook')!;
    peer.driver = {
      objectType: 'webhook',
      actions: () => ['send'],
      run: (r) => webhook.run(r),
      close: () => registry.close(),
    };
    return peer.driver;
  };
  const port = () => new URL(peer.receiver.url).port;

  it('delivers to 127.0.0.1 when it is listed', async () => {
    const d = registryDriver(['127.0.0.1']);
    const result = await d.run(driverRequest(webhookTask(), { webhookSpec: { url: peer.receiver.url } }));
    expect(result.ok).toBe(true);
    expect(peer.receiver.requests).toHaveLength(1);
  });

  it('refuses 127.0.0.1 when only another range is listed: a clear failure, nothing sent', async () => {
    const d = registryDriver(['10.20.0.0/16', 'hooks.example.com']);
    const result = await d.run(
      driverRequest(webhookTask(), { webhookSpec: { url: peer.receiver.url, retries: 3 } }),
    );
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(0);
    expect(result.error).toMatch(/127\.0\.0\.1 is not in webhooks\.allowDestinations/);
    expect(peer.receiver.requests).toHaveLength(0);
    expect(peer.receiver.connections()).toBe(0);
  });

  it('checks a name on the address it resolves to at connect time, and does not retry the refusal', async () => {
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    const d = registryDriver(['10.20.0.0/16'], dns.lookup);
    const url = `http://receiver.test:${port()}/hook`;
    const result = await d.run(driverRequest(webhookTask(), { webhookSpec: { url, retries: 3 } }));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.exhausted).toBeUndefined();
    expect(result.error).toContain(
      'receiver.test resolves to 127.0.0.1, which is not in webhooks.allowDestinations',
    );
    expect(peer.receiver.connections()).toBe(0);
  });

  it('delivers to a listed wildcard name, connecting to the address that was checked', async () => {
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    const d = registryDriver(['*.test'], dns.lookup);
    const url = `http://receiver.test:${port()}/hook`;
    const result = await d.run(driverRequest(webhookTask(), { webhookSpec: { url } }));
    expect(result.ok).toBe(true);
    expect(peer.receiver.requests[0]?.headers.host).toBe(`receiver.test:${port()}`);
    expect(dns.asked).toEqual(['receiver.test']);
  });

  it('the engine config refuses an entry that is no host, address or range, naming the entry', async () => {
    const dir = repo({
      'taskops.config.yaml': [
        'webhooks:',
        '  allowDestinations:',
        '    - hooks.slack.com',
        '    - https://x.example/path',
        '',
      ].join('\n'),
    });
    const r = await runCli(['--config', path.join(dir, 'taskops.config.yaml'), 'validate', dir]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(
      'webhooks.allowDestinations[1]: "https://x.example/path" is not a host name, *.domain, IP address or CIDR range',
    );
  });
});
