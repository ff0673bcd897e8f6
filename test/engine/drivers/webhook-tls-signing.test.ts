import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { secretPolicy } from '../../../src/manifest/index.js';
import { createWebhookDriver, type Driver } from '../../../src/engine/drivers/index.js';
import { signingKey } from '../../../src/engine/drivers/signing.js';
import { redact } from '../../../src/engine/drivers/webhook-request.js';
import { SecretError } from '../../../src/engine/secrets.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { startReceiver, type Receiver, type RecordedRequest } from '../../helpers/http-receiver.js';
import { selfSignedCertificate } from '../../helpers/tls.js';
import { ANY_SECRET, recordingDeps, webhookTask } from './webhook-fixtures.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function receiverWith(options: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const receiver = await startReceiver(options);
  cleanup.push(() => receiver.close());
  return receiver;
}

function driverWith(deps = recordingDeps()): Driver {
  const driver = createWebhookDriver(deps, { secrets: ANY_SECRET });
  cleanup.push(() => driver.close?.());
  return driver;
}

/** What a receiver does with the Standard Webhooks headers (https://www.standardwebhooks.com). */
function verify(req: RecordedRequest, secret: string): boolean {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const id = String(req.headers['webhook-id']);
  const timestamp = String(req.headers['webhook-timestamp']);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${req.body}`).digest();
  return String(req.headers['webhook-signature'])
    .split(' ')
    .some((entry) => {
      const [version, signature] = entry.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('webhook driver: TLS', () => {
  it('rejects a self-signed certificate by default, without retrying', async () => {
    const receiver = await receiverWith({ tls: selfSignedCertificate() });
    const result = await driverWith().run(
      driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, retries: 3 } }),
    );
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(/TLS certificate rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('accepts it with allowInsecureCertificates, for that webhook only', async () => {
    const receiver = await receiverWith({ tls: selfSignedCertificate() });
    const driver = driverWith();
    const insecure = await driver.run(
      driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, allowInsecureCertificates: true } }),
    );
    const strict = await driver.run(
      driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, retries: 0 } }),
    );
    expect(insecure).toMatchObject({ ok: true, attempts: 1 });
    expect(strict.ok).toBe(false);
    expect(receiver.requests).toHaveLength(1);
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
  });
});

describe('webhook driver: a private CA (caFrom)', () => {
  it('trusts the CA read from caFrom for that webhook only, and still rejects the certificate elsewhere', async () => {
    const certificate = selfSignedCertificate();
    const receiver = await receiverWith({ tls: certificate });
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-ca-'));
    writeFileSync(path.join(dir, 'ca.pem'), certificate.cert);
    const driver = driverWith();
    const trusted = await driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, retries: 0, caFrom: { file: path.join(dir, 'ca.pem') } },
      }),
    );
    const other = await driver.run(
      driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, retries: 0 } }),
    );
    expect(trusted).toMatchObject({ ok: true, attempts: 1 });
    expect(other.ok).toBe(false);
    expect(other.error).toMatch(/TLS certificate rejected/);
    expect(receiver.requests).toHaveLength(1);
  });

  it('reads caFrom only when the secrets allowlist allows its file', async () => {
    const receiver = await receiverWith({ tls: selfSignedCertificate() });
    const driver = createWebhookDriver(recordingDeps(), {
      secrets: secretPolicy({ files: ['/run/secrets/*'] }),
    });
    cleanup.push(() => driver.close?.());
    const result = await driver.run(
      driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, caFrom: { file: '/etc/passwd' } } }),
    );
    expect(result.error).toMatch(/\{file: \/etc\/passwd\} is not allowed/);
    expect(receiver.requests).toHaveLength(0);
  });
});

/** A Standard Webhooks secret: whsec_ and 32 bytes of key in base64. */
const SECRET_32 = `whsec_${Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64')}`;

describe('webhook driver: Standard Webhooks signing', () => {
  it('signs with a whsec_ secret so the receiver can verify the exact body', async () => {
    const secret = SECRET_32;
    const receiver = await receiverWith();
    const driver = driverWith(recordingDeps({ env: { SIGNING: secret }, newMessageId: () => 'msg_fixed' }));
    const result = await driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, signingSecretFrom: { env: 'SIGNING' } },
      }),
    );
    expect(result.ok).toBe(true);
    const req = receiver.requests[0] as RecordedRequest;
    expect(req.headers['webhook-id']).toBe('msg_fixed');
    expect(req.headers['webhook-timestamp']).toBe('1760629087');
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verify(req, secret)).toBe(true);
    expect(verify({ ...req, body: req.body.replace('gpu', 'cpu') }, secret)).toBe(false);
  });

  it('uses a secret without the whsec_ prefix as raw bytes', async () => {
    const receiver = await receiverWith();
    const driver = driverWith(recordingDeps({ env: { SIGNING: 'a plain secret of 24 bytes' } }));
    await driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, signingSecretFrom: { env: 'SIGNING' } },
      }),
    );
    expect(verify(receiver.requests[0] as RecordedRequest, 'a plain secret of 24 bytes')).toBe(true);
  });

  it('keeps one webhook-id across retries and signs each attempt with its own timestamp', async () => {
    const receiver = await receiverWith();
    receiver.script({ status: 500 }, { status: 503 });
    let clock = Date.parse('2025-10-16T15:38:07Z');
    const driver = driverWith(
      recordingDeps({ env: { SIGNING: SECRET_32 }, now: () => new Date((clock += 10_000)) }),
    );
    const req = driverRequest(webhookTask(), {
      webhookSpec: { url: receiver.url, retries: 2, signingSecretFrom: { env: 'SIGNING' } },
    });
    const delivery = driver.prepare!(req);
    let result = await driver.run({ ...req, attempt: 1, delivery });
    for (let attempt = 2; result.retryInMs !== undefined; attempt++)
      result = await driver.run({ ...req, attempt, delivery, previous: result.details });
    expect(result).toMatchObject({ ok: true });
    expect(receiver.requests).toHaveLength(3);
    const ids = receiver.requests.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^msg_/);
    expect(result.details).toMatchObject({ messageId: ids[0] });
    const stamps = receiver.requests.map((r) => Number(r.headers['webhook-timestamp']));
    expect(new Set(stamps).size).toBe(3);
    expect(receiver.requests.every((r) => verify(r, SECRET_32))).toBe(true);
  });

  it('gives each delivery its own webhook-id', async () => {
    const receiver = await receiverWith();
    const driver = driverWith(recordingDeps({ env: { SIGNING: SECRET_32 } }));
    const spec = { url: receiver.url, signingSecretFrom: { env: 'SIGNING' } };
    await driver.run(driverRequest(webhookTask(), { webhookSpec: spec }));
    await driver.run(driverRequest(webhookTask(), { webhookSpec: spec }));
    expect(receiver.requests[0]?.headers['webhook-id']).not.toBe(receiver.requests[1]?.headers['webhook-id']);
  });

  it('fails clearly when the signing secret is missing', async () => {
    const receiver = await receiverWith();
    const result = await driverWith().run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, signingSecretFrom: { file: '/nonexistent/s' } },
      }),
    );
    expect(result.error).toBe('webhook test-hook: secret {file: /nonexistent/s} cannot be read (ENOENT)');
  });
});

describe('redact', () => {
  it('masks every secret, the longest first', () => {
    expect(
      redact('GET https://h/services/ABC failed with token abc', [
        'https://h/services/ABC',
        '/services/ABC',
        'abc',
      ]),
    ).toBe('GET [redacted] failed with token [redacted]');
  });
});

describe('signingKey', () => {
  const ref = { env: 'SIGNING' };

  it('takes a key of exactly 24 bytes, raw or after whsec_', () => {
    expect(signingKey('x'.repeat(24), ref)).toHaveLength(24);
    expect(signingKey(`whsec_${Buffer.alloc(24, 9).toString('base64')}`, ref)).toHaveLength(24);
  });

  it.each([
    ['x'.repeat(23), 'is shorter than 24 bytes of key (Standard Webhooks)'],
    [
      `whsec_${Buffer.alloc(23, 9).toString('base64')}`,
      'is shorter than 24 bytes of key (Standard Webhooks)',
    ],
    ['whsec_', 'has no key material after whsec_'],
    [`whsec_${Buffer.alloc(32, 9).toString('base64url')}`, 'is not valid base64 after whsec_'],
    [`whsec_${Buffer.alloc(32, 9).toString('base64')} `, 'is not valid base64 after whsec_'],
  ])('refuses %j, naming the reference and never the value', (secret, reason) => {
    expect(() => signingKey(secret, ref)).toThrow(SecretError);
    expect(() => signingKey(secret, ref)).toThrow(`secret {env: SIGNING} ${reason}`);
    try {
      signingKey(secret, ref);
    } catch (err) {
      if (secret.length > 'whsec_'.length) expect((err as Error).message).not.toContain(secret.trim());
    }
  });
});

describe('webhook driver: signing secret rotation', () => {
  const OLD = `whsec_${Buffer.from('the old 32-byte signing key, ok!').toString('base64')}`;
  const NEW = `whsec_${Buffer.from('the new 32-byte signing key, ok!').toString('base64')}`;
  const official = (req: RecordedRequest, secret: string) =>
    new Webhook(secret).verify(req.body, {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    });

  it('signs with every listed secret, space-separated, so receivers on the old or the new one both verify', async () => {
    const receiver = await receiverWith();
    const driver = driverWith(recordingDeps({ env: { OLD, NEW }, now: () => new Date() }));
    const result = await driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, signingSecretFrom: [{ env: 'OLD' }, { env: 'NEW' }] },
      }),
    );
    expect(result.ok).toBe(true);
    const [req] = receiver.requests;
    expect(String(req!.headers['webhook-signature'])).toMatch(/^v1,\S+ v1,\S+$/);
    expect(official(req!, OLD)).toBeTruthy();
    expect(official(req!, NEW)).toBeTruthy();
    const other = `whsec_${Buffer.from('some third 32-byte signing key!!').toString('base64')}`;
    expect(() => official(req!, other)).toThrow();
  });

  it('checks every listed secret against the allowlist before reading any', async () => {
    const receiver = await receiverWith();
    const driver = createWebhookDriver(recordingDeps({ env: { OLD, NEW } }), {
      secrets: secretPolicy({ env: ['OLD'] }),
    });
    cleanup.push(() => driver.close?.());
    const result = await driver.run(
      driverRequest(webhookTask(), {
        webhookSpec: { url: receiver.url, signingSecretFrom: [{ env: 'OLD' }, { env: 'NEW' }] },
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/\{env: NEW\}/);
    expect(receiver.requests).toHaveLength(0);
  });
});
