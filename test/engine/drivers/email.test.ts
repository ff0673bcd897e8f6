import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmailDriver, type Driver } from '../../../src/engine/drivers/index.js';
import { requiresTls, smtpOptions } from '../../../src/engine/drivers/email.js';
import type { TaskSpec } from '../../../src/manifest/types.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { startSmtpPeer, type SmtpPeer } from '../../helpers/smtp-peer.js';
import { selfSignedCertificate } from '../../helpers/tls.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function peer(options: Parameters<typeof startSmtpPeer>[0] = {}): Promise<SmtpPeer> {
  const smtp = await startSmtpPeer(options);
  cleanup.push(() => smtp.close());
  return smtp;
}

function emailDriver(...args: Parameters<typeof createEmailDriver>): Driver {
  const driver = createEmailDriver(...args);
  cleanup.push(() => driver.close?.());
  return driver;
}

const emailTask = (params: Record<string, unknown>): TaskSpec => ({
  objectType: 'email',
  action: 'send',
  params,
});

const alert = emailTask({
  to: ['ops@example.com', 'oncall@example.com'],
  cc: 'lead@example.com',
  subject: 'Sync error on ${NAME}',
  body: 'Task ${TASK} saw ${NAME} fail at ${DATE}.\nRun ${RUN_ID}.',
});

describe('email driver', () => {
  it('delivers expanded subject and body to every recipient', async () => {
    const smtp = await peer();
    const driver = emailDriver({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'taskops@example.com' });
    const result = await driver.run(driverRequest(alert));
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const [mail] = smtp.messages;
    expect(mail?.from).toBe('taskops@example.com');
    expect(mail?.recipients).toEqual(['ops@example.com', 'oncall@example.com', 'lead@example.com']);
    expect(mail?.headers.subject).toBe('Sync error on gpu-ws-01');
    expect(mail?.headers.cc).toBe('lead@example.com');
    expect(mail?.text).toContain('Task test-task saw gpu-ws-01 fail at Thu, 16 Oct 2025 11:38:07 EDT.');
    expect(mail?.text).toContain('Run run-1.');
  });

  it('accepts a single recipient as a string', async () => {
    const smtp = await peer();
    const driver = emailDriver({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'taskops@example.com' });
    await driver.run(driverRequest(emailTask({ to: 'one@example.com', subject: 's', body: 'b' })));
    expect(smtp.messages[0]?.recipients).toEqual(['one@example.com']);
  });

  it('keeps an object name with a line break from adding a header', async () => {
    const smtp = await peer();
    const driver = emailDriver({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'taskops@example.com' });
    await driver.run(driverRequest(alert, { target: 'vm\r\nBcc: victim@example.com' }));
    expect(smtp.messages[0]?.headers.bcc).toBeUndefined();
    expect(smtp.messages[0]?.recipients).not.toContain('victim@example.com');
  });

  it('reuses one transporter across sends', async () => {
    const smtp = await peer();
    const driver = emailDriver({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'taskops@example.com' });
    await driver.run(driverRequest(alert));
    await driver.run(driverRequest(alert));
    expect(smtp.messages).toHaveLength(2);
  });

  it('logs in with the user from the URL and the password from passwordFrom', async () => {
    const smtp = await peer({ users: { ops: 's3cret' } });
    const config = {
      url: `smtp://ops@127.0.0.1:${smtp.port}`,
      from: 'ops@example.com',
      passwordFrom: { env: 'SMTP_PW' },
    };
    const ok = await emailDriver(config, { env: { SMTP_PW: 's3cret' } }).run(driverRequest(alert));
    const wrong = await emailDriver(config, { env: { SMTP_PW: 'wrong-pw' } }).run(driverRequest(alert));
    expect(ok.ok).toBe(true);
    expect(smtp.messages[0]?.user).toBe('ops');
    expect(wrong.ok).toBe(false);
    expect(wrong.error).not.toContain('wrong-pw');
  });

  it('fails clearly when the SMTP password is missing', async () => {
    const smtp = await peer();
    const config = {
      url: `smtp://ops@127.0.0.1:${smtp.port}`,
      from: 'ops@example.com',
      passwordFrom: { env: 'SMTP_PW' },
    };
    const result = await emailDriver(config, { env: {} }).run(driverRequest(alert));
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.error).toBe('email: secret {env: SMTP_PW} is not set in the engine environment');
  });

  it('refuses a self-signed smtps server by default and accepts it with allowInsecureCertificates', async () => {
    const smtp = await peer({ secure: true, tls: selfSignedCertificate() });
    const url = `smtps://127.0.0.1:${smtp.port}`;
    const strict = await emailDriver({ url, from: 'a@example.com' }).run(driverRequest(alert));
    const lax = await emailDriver({ url, from: 'a@example.com', allowInsecureCertificates: true }).run(
      driverRequest(alert),
    );
    expect(strict.ok).toBe(false);
    expect(strict.error).toMatch(/self.signed/i);
    expect(lax.ok).toBe(true);
    expect(smtp.messages).toHaveLength(1);
  });

  it('trusts a private CA for the SMTP server through smtp.caFrom', async () => {
    const certificate = selfSignedCertificate();
    const smtp = await peer({ secure: true, tls: certificate });
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-smtp-ca-'));
    writeFileSync(path.join(dir, 'ca.pem'), certificate.cert);
    const url = `smtps://127.0.0.1:${smtp.port}`;
    const result = await emailDriver({
      url,
      from: 'a@example.com',
      caFrom: { file: path.join(dir, 'ca.pem') },
    }).run(driverRequest(alert));
    expect(result.ok).toBe(true);
    expect(smtp.messages).toHaveLength(1);
  });

  it('says what to configure when the engine has no smtp section', async () => {
    const result = await emailDriver(undefined).run(driverRequest(alert));
    expect(result.error).toBe('email: the engine config has no smtp section; add smtp.url and smtp.from');
  });

  it('refuses a password written into smtp.url', async () => {
    const result = await emailDriver({ url: 'smtp://ops:pw@127.0.0.1:25', from: 'a@example.com' }).run(
      driverRequest(alert),
    );
    expect(result.error).toBe('email: smtp.url must not hold a password: use smtp.passwordFrom');
  });

  it('refuses parameters of the wrong shape and unknown actions', async () => {
    const driver = emailDriver({ url: 'smtp://127.0.0.1:25', from: 'a@example.com' });
    expect((await driver.run(driverRequest(emailTask({ to: 5, subject: 's', body: 'b' })))).error).toMatch(
      /params.to/,
    );
    const wrongAction = await driver.run(driverRequest({ ...alert, action: 'shout' }));
    expect(wrongAction.error).toBe('email has no action shout; it offers: send');
  });
});

describe('email driver: refusals, retries and TLS', () => {
  const smtpAt = (port: number, more: Record<string, unknown> = {}) => ({
    url: `smtp://127.0.0.1:${port}`,
    from: 'taskops@example.com',
    ...more,
  });

  it('fails when one of two recipients is refused, naming it with the server’s answer, and does not retry', async () => {
    const smtp = await peer({ refuse: { 'oncall@example.com': [550, 'No such user here'] } });
    const result = await emailDriver(smtpAt(smtp.port)).run(
      driverRequest(emailTask({ to: ['ops@example.com', 'oncall@example.com'], subject: 's', body: 'b' })),
    );
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.retryInMs).toBeUndefined();
    expect(result.error).toMatch(
      /^email: refused by the server for oncall@example.com \(550 No such user here\); sent to ops@example.com$/,
    );
    expect(result.details).toMatchObject({ accepted: ['ops@example.com'], rejected: ['oncall@example.com'] });
    expect(smtp.messages.map((m) => m.recipients)).toEqual([['ops@example.com']]);
  });

  it('fails at once when every recipient is refused with 5xx', async () => {
    const smtp = await peer({ refuse: { 'ops@example.com': [550, 'Mailbox unavailable'] } });
    const result = await emailDriver(smtpAt(smtp.port)).run(
      driverRequest(emailTask({ to: 'ops@example.com', subject: 's', body: 'b' })),
    );
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.retryInMs).toBeUndefined();
    expect(result.error).toContain('ops@example.com (550 Mailbox unavailable)');
  });

  it('retries a 451 "try later" under the policy and sends on the next attempt', async () => {
    const smtp = await peer({ mailFromAnswers: [[451, 'Greylisted, try again later']] });
    const driver = emailDriver(smtpAt(smtp.port, { retries: 2, retrySchedule: { intervals: ['5m'] } }), {
      random: () => 0.5,
    });
    const first = await driver.run(driverRequest(alert, { attempt: 1 }));
    expect(first).toMatchObject({ ok: false, attempts: 1, retryInMs: 300_000 });
    expect(first.error).toMatch(/^email: attempt 1 failed: .*451 Greylisted/);
    const second = await driver.run(driverRequest(alert, { attempt: 2 }));
    expect(second).toMatchObject({ ok: true });
    expect(smtp.messages).toHaveLength(1);
  });

  it('retries while the server is down, then reports exhaustion with the last error', async () => {
    const smtp = await peer();
    const port = smtp.port;
    await smtp.close();
    const driver = emailDriver(smtpAt(port, { retries: 1 }), { random: () => 0.5 });
    const first = await driver.run(driverRequest(alert, { attempt: 1 }));
    expect(first).toMatchObject({ ok: false, retryInMs: 500 });
    expect(first.error).toMatch(/ECONNREFUSED/);
    const last = await driver.run(driverRequest(alert, { attempt: 2 }));
    expect(last).toMatchObject({ ok: false, exhausted: true });
    expect(last.retryInMs).toBeUndefined();
    expect(last.error).toMatch(/^email: gave up after 2 attempts; last: .*ECONNREFUSED/);
  });

  it('with requireTLS, refuses a server without STARTTLS before AUTH: no password and no mail sent', async () => {
    const smtp = await peer({ users: { ops: 's3cret' } });
    const config = smtpAt(smtp.port, { requireTLS: true, passwordFrom: { env: 'SMTP_PW' } });
    config.url = `smtp://ops@127.0.0.1:${smtp.port}`;
    const result = await emailDriver(config, { env: { SMTP_PW: 's3cret' } }).run(driverRequest(alert));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.retryInMs).toBeUndefined();
    expect(result.error).toMatch(/offers no usable STARTTLS and smtp.requireTLS is on/);
    expect(smtp.logins).toEqual([]);
    expect(smtp.messages).toEqual([]);
  });

  it('upgrades with STARTTLS and logs in when requireTLS is on and the server offers it', async () => {
    const smtp = await peer({ users: { ops: 's3cret' }, tls: selfSignedCertificate() });
    const config = {
      url: `smtp://ops@127.0.0.1:${smtp.port}`,
      from: 'ops@example.com',
      passwordFrom: { env: 'SMTP_PW' },
      requireTLS: true,
      allowInsecureCertificates: true,
    };
    const result = await emailDriver(config, { env: { SMTP_PW: 's3cret' } }).run(driverRequest(alert));
    expect(result.ok).toBe(true);
    expect(smtp.logins).toEqual(['ops']);
  });

  it('requires TLS by default when a user logs in to a host that is not loopback', () => {
    const from = 'a@example.com';
    expect(requiresTls({ url: 'smtp://ops@mail.example.com:587', from })).toBe(true);
    expect(requiresTls({ url: 'smtp://mail.example.com:25', from })).toBe(false);
    expect(requiresTls({ url: 'smtp://ops@127.0.0.1:25', from })).toBe(false);
    expect(requiresTls({ url: 'smtp://ops@[::1]:25', from })).toBe(false);
    expect(requiresTls({ url: 'smtp://ops@mail.example.com:587', from, requireTLS: false })).toBe(false);
    expect(smtpOptions({ url: 'smtp://ops@mail.example.com:587', from }, 'pw')).toMatchObject({
      requireTLS: true,
    });
  });
});
