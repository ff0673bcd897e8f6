import { describe, expect, it } from 'vitest';
import { mayHoldCredentials, redactCredentials, redactDeep } from '../../src/text/redact.js';

describe('redactCredentials', () => {
  it.each([
    ['https://oauth2:TOKEN@host/x.git', 'https://***@host/x.git'],
    ['http://TOKEN@127.0.0.1:8080/repo.git', 'http://***@127.0.0.1:8080/repo.git'],
    ['ssh://git:pw@git.example.com:22/ops/tasks.git', 'ssh://***@git.example.com:22/ops/tasks.git'],
    ['git+ssh://deploy:pw@host/repo', 'git+ssh://***@host/repo'],
    ['smtps://mailer:s3cret@smtp.example.com:465', 'smtps://***@smtp.example.com:465'],
    ['postgres://app:pw@db:5432/taskops', 'postgres://***@db:5432/taskops'],
    ['https://u:p%40ss%2Fword@host/', 'https://***@host/'],
    ['https://user:p@ss@host/x', 'https://***@host/x'],
    ['https://oauth2:TOKEN@[::1]:8080/x', 'https://***@[::1]:8080/x'],
  ])('masks the userinfo of %s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });

  it('masks a password given as a query parameter or a libpq keyword (a PostgreSQL store URL)', () => {
    expect(redactCredentials('postgres://db:5432/taskops?user=app&password=s3cret&sslmode=require')).toBe(
      'postgres://db:5432/taskops?user=app&password=***&sslmode=require',
    );
    expect(redactCredentials('host=db password=s3cret dbname=taskops')).toBe(
      'host=db password=*** dbname=taskops',
    );
    expect(redactCredentials('postgres://app:pw@db/x?sslpassword=k3y')).toBe(
      'postgres://***@db/x?sslpassword=***',
    );
  });

  it('masks every URL inside a longer text, quoted or not, and keeps the rest', () => {
    const text =
      "fatal: unable to access 'https://oauth2:TOKEN@host/x.git/': Could not resolve host\n" +
      '{"source":"http://a:b@h/r.git@main:manifests","other":"https://plain.example/p"}';
    expect(redactCredentials(text)).toBe(
      "fatal: unable to access 'https://***@host/x.git/': Could not resolve host\n" +
        '{"source":"http://***@h/r.git@main:manifests","other":"https://plain.example/p"}',
    );
  });

  it('masks the percent-encoded forms of such a URL', () => {
    expect(redactCredentials('next=https%3A%2F%2Foauth2%3ATOKEN%40host%2Fx.git&a=1')).toBe(
      'next=https%3A%2F%2F***%40host%2Fx.git&a=1',
    );
    expect(redactCredentials('u=https%253A%252F%252Foauth2%253ATOKEN%2540host%252Fx')).toBe(
      'u=https%253A%252F%252F***%2540host%252Fx',
    );
  });

  it('masks scp-like user:password@host:path, but keeps git@github.com:org/repo (no secret)', () => {
    expect(redactCredentials('remote deploy:TOKEN@git.example.com:ops/tasks.git')).toBe(
      'remote ***@git.example.com:ops/tasks.git',
    );
    expect(redactCredentials('git@github.com:org/repo.git')).toBe('git@github.com:org/repo.git');
  });

  it('leaves text without credentials alone: e-mail addresses, paths, folder revisions, @ in a path', () => {
    for (const text of [
      'mail ops@example.com at 18:00',
      'path:/srv/manifests@3f2a9c',
      'https://registry.npmjs.org/@scope/pkg',
      'https://git.example.com/ops/tasks.git@main:manifests',
      'Thu, 16 Oct 2025 11:38:07 EDT',
    ])
      expect(redactCredentials(text)).toBe(text);
  });
});

describe('redactDeep', () => {
  it('redacts every string of a nested value and leaves the input unchanged', () => {
    const input = { a: ['https://u:p@h/x', 1, null], b: { c: { d: 'smtp://u:p@h' } }, e: true };
    expect(redactDeep(input)).toEqual({
      a: ['https://***@h/x', 1, null],
      b: { c: { d: 'smtp://***@h' } },
      e: true,
    });
    expect(input.a[0]).toBe('https://u:p@h/x');
  });

  it('walks a value nested far deeper than the call stack allows', () => {
    let deep: unknown = 'https://u:p@h/x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let out = redactDeep(deep);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe('https://***@h/x');
  });
});

describe('mayHoldCredentials (the task log skips redaction when it says no)', () => {
  const hiding = [
    'https://user:secret@example.com/x',
    'postgres://u:p%40ss@db/taskops',
    'https://user%2540corp:pw@example.com',
    'dsn: host=db PASSWORD=hunter2',
  ];
  it('says yes for every string redactCredentials would change, also inside JSON text', () => {
    for (const text of hiding) {
      expect(redactCredentials(text)).not.toBe(text);
      expect(mayHoldCredentials(text)).toBe(true);
      expect(mayHoldCredentials(JSON.stringify({ error: text, details: { stderr: [text] } }))).toBe(true);
    }
  });

  it('says no for text without @, password= or an encoded @', () => {
    for (const text of ['https://example.com/hook', 'exit code 1: no such host', '100% done', '{"a":"b"}'])
      expect(mayHoldCredentials(text)).toBe(false);
  });
});
