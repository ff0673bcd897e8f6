import { afterEach, describe, expect, it } from 'vitest';
import { createEmailDriver, type Driver } from '../../../src/engine/drivers/index.js';
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
