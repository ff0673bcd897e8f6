import { describe, expect, it } from 'vitest';
import { describeSecretRef, findSecretRefs, secretPolicy } from '../../src/manifest/index.js';

const OPERATOR = secretPolicy({
  env: ['SLACK_BOT_TOKEN', 'MONITORING_*'],
  files: ['/run/secrets/taskops/*', '/etc/taskops/keys/**'],
});

describe('secretPolicy: environment variables', () => {
  it('allows nothing when the engine config has no secrets section, or an empty list', () => {
    for (const policy of [secretPolicy(undefined), secretPolicy({}), secretPolicy({ env: [], files: [] })]) {
      expect(policy.refusal({ env: 'SLACK_BOT_TOKEN' })).toMatch(/is not allowed/);
      expect(policy.refusal({ file: '/run/secrets/taskops/pw' })).toMatch(/is not allowed/);
    }
  });

  it('allows exact names and globs, case-sensitively', () => {
    expect(OPERATOR.refusal({ env: 'SLACK_BOT_TOKEN' })).toBeNull();
    expect(OPERATOR.refusal({ env: 'MONITORING_API_KEY' })).toBeNull();
    expect(OPERATOR.refusal({ env: 'slack_bot_token' })).not.toBeNull();
    expect(OPERATOR.refusal({ env: 'MONITORINGX' })).not.toBeNull();
    expect(OPERATOR.refusal({ env: 'SLACK_BOT_TOKEN_2' })).not.toBeNull();
  });

  it('says what to ask the operator for', () => {
    expect(OPERATOR.refusal({ env: 'AWS_SECRET_ACCESS_KEY' })).toBe(
      "is not allowed by the engine's secrets allowlist; ask the operator to add AWS_SECRET_ACCESS_KEY to secrets.env in taskops.config.yaml",
    );
  });

  it.each(['TASKOPS_API_TOKEN', 'TASKOPS_STORE_URL', 'taskops_api_token'])(
    'never allows the engine setting %s, even when listed or under *',
    (name) => {
      const everything = secretPolicy({ env: ['*', name], files: [] });
      expect(everything.refusal({ env: name })).toBe(
        "is one of the engine's own settings (TASKOPS_*), which no manifest may read, whatever the allowlist says",
      );
    },
  );

  it('refuses a name that is no variable name (a hand-written store)', () => {
    const everything = secretPolicy({ env: ['*'] });
    expect(everything.refusal({ env: 'A B' })).toBe('is not an environment variable name');
    expect(everything.refusal({ env: 42 })).toBe('is not an environment variable name');
  });
});

describe('secretPolicy: files', () => {
  it('matches globs segment by segment: * stays in its folder, ** goes below', () => {
    expect(OPERATOR.refusal({ file: '/run/secrets/taskops/pw' })).toBeNull();
    expect(OPERATOR.refusal({ file: '/run/secrets/taskops/sub/pw' })).not.toBeNull();
    expect(OPERATOR.refusal({ file: '/etc/taskops/keys/a/b/key' })).toBeNull();
    expect(OPERATOR.refusal({ file: '/run/secrets/other' })).toBe(
      "is not allowed by the engine's secrets allowlist; ask the operator to add /run/secrets/other to secrets.files in taskops.config.yaml",
    );
  });

  it.each([
    ['/run/secrets/taskops/../../etc/passwd', '/run/etc/passwd'],
    ['/run/secrets/taskops/../../../etc/passwd', '/etc/passwd'],
    ['/run/secrets/taskops/./pw', '/run/secrets/taskops/pw'],
    ['/run/secrets/taskops//pw', '/run/secrets/taskops/pw'],
    ['/etc/taskops/keys/../../shadow', '/etc/shadow'],
  ])('refuses %s, which is not a plain path, even where a glob would match it', (file, plain) => {
    const everything = secretPolicy({ files: ['/**', '/run/secrets/taskops/**'] });
    expect(everything.refusal({ file })).toBe(
      `is not a plain absolute path (no . or .. segments, no doubled slashes); it would name ${plain}`,
    );
  });

  it('refuses relative paths and paths with control characters', () => {
    const everything = secretPolicy({ files: ['/**'] });
    expect(everything.refusal({ file: 'run/secrets/pw' })).toMatch(/^is not an absolute path/);
    expect(everything.refusal({ file: '/run/secrets/pw\u0000' })).toBe('is not a file path');
    expect(everything.refusal({ file: '/run/secrets/pw\u009b' })).toBe('is not a file path');
    expect(everything.refusal({ file: '' })).toBe('is not a file path');
  });
});

describe('secretPolicy: malformed references', () => {
  it.each([
    [
      { env: 'SLACK_BOT_TOKEN', file: '/run/secrets/taskops/pw' },
      'names both env and file: give exactly one',
    ],
    [{}, 'names neither env nor file'],
    ['SLACK_BOT_TOKEN', 'is not a secret reference; write {env: NAME} or {file: PATH}'],
    [null, 'is not a secret reference; write {env: NAME} or {file: PATH}'],
  ])('refuses %j', (ref, message) => {
    expect(OPERATOR.refusal(ref)).toBe(message);
  });

  it('describes any shape without quoting control characters', () => {
    expect(describeSecretRef({ env: 'A', file: '/b' })).toBe('{env: A, file: /b}');
    expect(describeSecretRef({ file: '/x\u001b[2J\u009b' })).toBe('{file: /x\\u001b[2J\\u009b}');
    expect(describeSecretRef({ env: 7 })).toBe('{env: 7}');
    expect(describeSecretRef('text')).toBe('"text"');
  });
});

describe('findSecretRefs', () => {
  it('finds every *From field, in document order, with its path', () => {
    const spec = {
      urlFrom: { env: 'URL' },
      auth: { type: 'apiKey', apiKey: { header: 'X', valueFrom: { file: '/k' } } },
      signingSecretFrom: { env: 'S' },
      futureThing: [{ keyFrom: { env: 'K' } }],
    };
    expect(findSecretRefs(spec)).toEqual([
      { path: ['spec', 'urlFrom'], ref: { env: 'URL' } },
      { path: ['spec', 'auth', 'apiKey', 'valueFrom'], ref: { file: '/k' } },
      { path: ['spec', 'signingSecretFrom'], ref: { env: 'S' } },
      { path: ['spec', 'futureThing', 0, 'keyFrom'], ref: { env: 'K' } },
    ]);
  });

  it('leaves payloads and event fields alone: they are data, never read as secrets', () => {
    const spec = { params: { payload: { tokenFrom: { env: 'X' } } }, event: { where: { valueFrom: 'y' } } };
    expect(findSecretRefs(spec)).toEqual([]);
  });

  it('walks a spec nested far deeper than any manifest may be without overflowing the stack', () => {
    let deep: Record<string, unknown> = { tokenFrom: { env: 'DEEP' } };
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(findSecretRefs(deep)).toHaveLength(1);
  });
});

describe('findSecretRefs: lists of references', () => {
  it('finds each secret of a signingSecretFrom list (a rotation) at its own index', () => {
    const refs = findSecretRefs({
      url: 'https://x',
      signingSecretFrom: [{ env: 'OLD' }, { file: '/run/new' }],
    });
    expect(refs).toEqual([
      { path: ['spec', 'signingSecretFrom', 0], ref: { env: 'OLD' } },
      { path: ['spec', 'signingSecretFrom', 1], ref: { file: '/run/new' } },
    ]);
    expect(refs.map((r) => describeSecretRef(r.ref))).toEqual(['{env: OLD}', '{file: /run/new}']);
  });
});
