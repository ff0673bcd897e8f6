import { describe, expect, it } from 'vitest';
import { credentialOptions, splitRemote } from '../../src/source/credentials.js';
import { GitSource, SourceError } from '../../src/source/index.js';

describe('splitRemote', () => {
  it('takes user and password out of an http(s) URL, decoded, and shows them as ***', () => {
    expect(splitRemote('https://oauth2:to%2Bken@git.example.com/ops/tasks.git')).toEqual({
      url: 'https://git.example.com/ops/tasks.git',
      display: 'https://***@git.example.com/ops/tasks.git',
      credential: { username: 'oauth2', password: 'to+ken' },
    });
  });

  it('treats a user name alone as a credential in http(s) (a token often stands there)', () => {
    expect(splitRemote('https://ghp_TOKEN@github.com/acme/ops.git')).toMatchObject({
      url: 'https://github.com/acme/ops.git',
      credential: { username: 'ghp_TOKEN', password: '' },
    });
  });

  it('keeps the user of an ssh URL (ssh needs it) and leaves paths and scp-like remotes alone', () => {
    expect(splitRemote('ssh://git@git.example.com/ops.git')).toEqual({
      url: 'ssh://git@git.example.com/ops.git',
      display: 'ssh://***@git.example.com/ops.git',
    });
    expect(splitRemote('git@github.com:acme/ops.git')).toEqual({
      url: 'git@github.com:acme/ops.git',
      display: 'git@github.com:acme/ops.git',
    });
    expect(splitRemote('/srv/git/ops')).toEqual({ url: '/srv/git/ops', display: '/srv/git/ops' });
  });

  it('refuses a password in an ssh URL, without showing it', () => {
    const err = (() => {
      try {
        splitRemote('ssh://git:SECRET@git.example.com/ops.git');
      } catch (e) {
        return e as SourceError;
      }
    })();
    expect(err).toBeInstanceOf(SourceError);
    expect(err?.message).toContain('ssh:// URL cannot carry a password; use an SSH key or agent');
    expect(err?.message).not.toContain('SECRET');
  });

  it('refuses a credential with a line break, which would break the credential protocol', () => {
    expect(() => splitRemote('https://u:a%0Ab@host/x')).toThrow(/line break/);
  });
});

describe('credentialOptions', () => {
  it('resets the operator helpers and answers only for the origin, from the environment', () => {
    const { args, env } = credentialOptions(splitRemote('http://oauth2:TOKEN@127.0.0.1:8080/repo.git'));
    expect(args.slice(0, 3)).toEqual(['-c', 'credential.helper=', '-c']);
    expect(args[3]).toMatch(/^credential\.http:\/\/127\.0\.0\.1:8080\.helper=!/);
    expect(args.join(' ')).not.toContain('TOKEN');
    expect(Object.values(env)).toEqual(['oauth2', 'TOKEN']);
  });

  it('adds nothing for a URL without a credential', () => {
    expect(credentialOptions(splitRemote('https://git.example.com/ops.git'))).toEqual({ args: [], env: {} });
  });
});

describe('GitSource with a credential in its URL', () => {
  it('describes itself without the credential', () => {
    const source = new GitSource({ repo: 'https://oauth2:TOKEN@git.example.com/ops.git', dataDir: '/tmp/x' });
    expect(source.describe()).toBe('https://***@git.example.com/ops.git@HEAD');
    expect(source.repo).toBe('https://***@git.example.com/ops.git');
  });
});
