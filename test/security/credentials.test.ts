import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDirFor } from '../../src/source/index.js';
import { runCli } from '../helpers/cli.js';
import { doc, docs } from '../helpers/engine.js';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.js';
import { tempDir, tempRepo, type TempRepo } from '../helpers/git.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { freePort, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { until } from '../helpers/wait.js';

/**
 * The attacker: a committer who chains a webhook to `system/reconcile-failed`, or anyone who reads the logs,
 * the status, the metrics or the data dir of an engine that follows `--repo http://oauth2:TOKEN@host/…`.
 * The secret part of each token is random, so finding it anywhere is a leak, never a coincidence.
 */
const secretPart = () => randomBytes(12).toString('hex');
// A `+` is percent-encoded in the URL and decoded for git: both spellings must stay hidden.
const tokenOf = (secret: string) => `tok+${secret}`;

let secret: string;
let git: GitHttpServer;
let repo: TempRepo;
let data: { dir: string; cleanup: () => void };
let home: { dir: string; cleanup: () => void };
let serve: ServeProcess | undefined;
let receiver: Receiver | undefined;

const authedUrl = (password = tokenOf(secret)) => git.url('repo.git', { user: 'oauth2', password });

/** Every file below `dir`, recursively (the cache, its .git, the SQLite file and its WAL, the logs). */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesBelow(full) : [full];
  });
}

/** The files of `dir` whose bytes contain `needle`. */
const filesHolding = (dir: string, needle: string) =>
  filesBelow(dir).filter((f) => readFileSync(f).includes(needle));

function expectNoSecret(text: string, where: string, ...secrets: string[]): void {
  for (const s of secrets)
    expect(text.includes(s), `${where} holds the credential ${s}:\n${text}`).toBe(false);
}

const SCHEDULE = doc('Schedule', 'nightly', { cron: '0 2 * * *' });

beforeEach(async () => {
  secret = secretPart();
  git = await startGitHttpServer({ user: 'oauth2', password: tokenOf(secret) });
  repo = await tempRepo();
  await repo.commit('manifests', { 'manifests/schedule.yaml': SCHEDULE });
  git.serve('repo.git', repo.dir);
  data = tempDir('taskops-creds-data-');
  // The operator's own git config keeps a credential store: the engine must not fill it with the token.
  home = tempDir('taskops-creds-home-');
  writeFileSync(
    join(home.dir, '.gitconfig'),
    `[credential]\n\thelper = store --file ${join(home.dir, 'stored-credentials')}\n`,
  );
});

afterEach(async () => {
  await serve?.kill('SIGKILL');
  serve = undefined;
  await receiver?.close();
  receiver = undefined;
  await git.close();
  repo.cleanup();
  data.cleanup();
  home.cleanup();
});

const cli = (args: string[]) =>
  runCli(['--data-dir', data.dir, ...args], { env: { HOME: home.dir, XDG_CONFIG_HOME: home.dir } });

describe('a git token inside --repo', () => {
  it('still clones with the token, but the cache never stores it: not in .git/config, nowhere in the data dir', async () => {
    const result = await cli(['reconcile', '--repo', authedUrl(), '--ref', 'main', '--path', 'manifests']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Applied: 1 created');
    expect(git.requests.authorized).toBeGreaterThan(0);

    const configs = filesBelow(join(data.dir, 'sources')).filter((f) => f.endsWith(join('.git', 'config')));
    expect(configs).toHaveLength(1);
    expect(readFileSync(configs[0]!, 'utf8')).toContain(`url = ${git.origin}/repo.git\n`);
    expect(filesHolding(data.dir, secret)).toEqual([]);
    expect(filesHolding(home.dir, secret)).toEqual([]);
    expectNoSecret(result.stdout + result.stderr, 'the CLI output', secret);
  });

  it('shares one cache between URLs that differ only in their credentials, and fetches again with a new token', async () => {
    const first = authedUrl();
    await cli(['reconcile', '--repo', first, '--ref', 'main', '--path', 'manifests']);
    expect(cacheDirFor(data.dir, authedUrl('another-token'))).toBe(cacheDirFor(data.dir, first));
    expect(readdirSync(join(data.dir, 'sources')).filter((n) => !n.endsWith('.lock'))).toHaveLength(1);
    await repo.commit('more', { 'manifests/other.yaml': doc('Schedule', 'weekly', { cron: '0 3 * * 1' }) });
    const again = await cli(['reconcile', '--repo', first, '--ref', 'main', '--path', 'manifests']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Applied: 1 created');
  });

  it('cleans a cache that an older version left with the token in .git/config, on the next fetch', async () => {
    const url = authedUrl();
    // What the previous version did: the cache named by a hash of the URL as given, the token in the remote.
    const { createHash } = await import('node:crypto');
    const legacy = join(data.dir, 'sources', createHash('sha256').update(url).digest('hex').slice(0, 24));
    await simpleGit().clone(url, legacy);
    expect(filesHolding(data.dir, secret).length).toBeGreaterThan(0);

    const result = await cli(['reconcile', '--repo', url, '--ref', 'main', '--path', 'manifests']);
    expect(result.code, result.stderr).toBe(0);
    expect(filesHolding(data.dir, secret)).toEqual([]);
  });

  it.each([
    ['reconcile', ['reconcile', '--ref', 'no-such-branch']],
    ['reconcile --dry-run', ['reconcile', '--dry-run', '--ref', 'no-such-branch']],
    ['validate', ['validate', '--ref', 'no-such-branch']],
  ])(
    '%s with a ref the remote does not have: the error names the repo without the token',
    async (_, args) => {
      const [command, ...rest] = args as [string, ...string[]];
      const result = await cli([command, '--repo', authedUrl(), ...rest]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `ref no-such-branch was not found in http://***@127.0.0.1:${git.port}/repo.git`,
      );
      expectNoSecret(result.stdout + result.stderr, 'the CLI output', secret);
      expect(filesHolding(data.dir, secret)).toEqual([]);
    },
  );

  it('a refused token: the error says access was refused and shows neither the given nor the right token', async () => {
    const wrong = secretPart();
    const result = await cli(['validate', '--repo', authedUrl(tokenOf(wrong)), '--ref', 'main']);
    expect(result.code).toBe(1);
    expect(git.requests.refused).toBeGreaterThan(0);
    expect(result.stderr).toContain(`could not fetch http://***@127.0.0.1:${git.port}/repo.git`);
    expectNoSecret(result.stdout + result.stderr, 'the CLI output', wrong, secret);
    expect(filesHolding(data.dir, wrong)).toEqual([]);
    expect(filesHolding(home.dir, wrong)).toEqual([]);
  });

  it('a redirect to another origin: git follows it, but the credential stays with the origin it was given for', async () => {
    const elsewhere = await startGitHttpServer({ user: 'oauth2', password: tokenOf(secret) });
    elsewhere.serve('repo.git', repo.dir);
    const mover = await startGitHttpServer(
      { user: 'oauth2', password: tokenOf(secret) },
      { redirectTo: elsewhere.origin },
    );
    try {
      const url = mover.url('repo.git', { user: 'oauth2', password: tokenOf(secret) });
      const result = await cli(['validate', '--repo', url, '--ref', 'main']);
      expect(result.code).toBe(1);
      expect(elsewhere.requests.refused).toBeGreaterThan(0);
      expect(elsewhere.requests.authorized).toBe(0);
      expect(elsewhere.authorizations).toEqual([]);
      expectNoSecret(result.stdout + result.stderr, 'the CLI output', secret);
    } finally {
      await mover.close();
      await elsewhere.close();
    }
  });

  it('an unreachable port: the error shows the repo without the token', async () => {
    const port = await freePort();
    const url = `http://oauth2:${encodeURIComponent(tokenOf(secret))}@127.0.0.1:${port}/repo.git`;
    const result = await cli(['reconcile', '--repo', url, '--ref', 'main']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not fetch http://***@127.0.0.1:${port}/repo.git`);
    expectNoSecret(result.stdout + result.stderr, 'the CLI output', secret);
    expect(filesHolding(data.dir, secret)).toEqual([]);
  });
});

describe('serve --repo with a token in the URL', () => {
  const ALERT = (receiverUrl: string) =>
    docs(
      doc('Webhook', 'alert', { url: `${receiverUrl}/alert`, retries: 0 }),
      doc('Task', 'alert-on-failed-sync', {
        objectType: 'webhook',
        target: { name: 'alert' },
        action: 'send',
        params: { payload: { message: '${FIELD_message}', first: '${FIELD_firstProblem}' } },
      }),
      doc('EventTrigger', 'on-reconcile-failed', {
        event: { type: 'system', name: 'reconcile-failed' },
        tasks: ['alert-on-failed-sync'],
      }),
    );

  const sync = (url: string) =>
    fetch(`${url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });

  it('keeps the token out of the reconcile-failed event a committer chains a webhook to, the status, the metrics, the logs and the data dir', async () => {
    receiver = await startReceiver();
    const good = await repo.commit('alert', { 'manifests/alert.yaml': ALERT(receiver.url) });
    serve = await startServe({
      globalArgs: ['--data-dir', data.dir],
      serveArgs: ['--repo', authedUrl(), '--ref', 'main', '--path', 'manifests', '--poll-interval', '1h'],
      env: { HOME: home.dir, XDG_CONFIG_HOME: home.dir },
    });
    const status = async () => await (await fetch(`${serve!.url}/api/v1/status`)).text();
    await until(
      async () => (await status()).includes(`"lastAppliedRevision":"${good}"`),
      'the first sync',
      15_000,
    );

    // The branch disappears: git fails and names the remote, then the remote goes away altogether.
    await repo.git.branch(['-m', 'main', 'moved']);
    const missingRef = await (await sync(serve.url)).text();
    expect(missingRef).toContain(`ref main was not found in http://***@127.0.0.1:${git.port}/repo.git`);
    await until(() => receiver!.requests.length >= 1, 'the first alert', 15_000);
    await git.close();
    const unreachable = await (await sync(serve.url)).text();
    expect(unreachable).toContain(`could not fetch http://***@127.0.0.1:${git.port}/repo.git`);
    await until(() => receiver!.requests.length >= 2, 'the second alert', 15_000);

    const alerts = receiver.requests.map((r) => r.body).join('\n');
    expect(alerts).toContain(`ref main was not found in http://***@127.0.0.1:${git.port}/repo.git`);
    expect(alerts).toContain(`could not fetch http://***@127.0.0.1:${git.port}/repo.git`);
    expectNoSecret(alerts, 'the alert webhook bodies (the event fields)', secret);
    expectNoSecret(missingRef + unreachable, 'POST /api/v1/sync', secret);
    const statusText = await status();
    expect(statusText).toContain(`"source":"http://***@127.0.0.1:${git.port}/repo.git@main:manifests"`);
    expectNoSecret(statusText, '/api/v1/status', secret);
    expectNoSecret(await (await fetch(`${serve.url}/metrics`)).text(), '/metrics', secret);
    expect(await serve.kill('SIGTERM')).toBe(0);
    expect(serve.output()).toContain('revision refused');
    expectNoSecret(serve.output(), 'the serve logs', secret);
    expect(filesBelow(join(data.dir, 'logs')).some((f) => /runs-.*\.jsonl$/.test(f))).toBe(true);
    expect(filesBelow(join(data.dir, 'logs')).some((f) => /audit-.*\.jsonl$/.test(f))).toBe(true);
    expect(filesHolding(data.dir, secret)).toEqual([]);
    expect(filesHolding(home.dir, secret)).toEqual([]);
  });

  it('a bad ref on the first sync: logs, status and data dir show the repo as http://***@…', async () => {
    serve = await startServe({
      globalArgs: ['--data-dir', data.dir],
      serveArgs: ['--repo', authedUrl(), '--ref', 'no-such-branch', '--poll-interval', '1h'],
      env: { HOME: home.dir, XDG_CONFIG_HOME: home.dir },
    });
    const statusText = await (await fetch(`${serve.url}/api/v1/status`)).text();
    expect(statusText).toContain(
      `ref no-such-branch was not found in http://***@127.0.0.1:${git.port}/repo.git`,
    );
    expectNoSecret(statusText, '/api/v1/status', secret);
    expect(await serve.kill('SIGTERM')).toBe(0);
    expect(serve.output()).toContain('the first sync was refused');
    expectNoSecret(serve.output(), 'the serve logs', secret);
    expect(filesHolding(data.dir, secret)).toEqual([]);
  });
});
