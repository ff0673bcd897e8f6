import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, tempRepo, type TempRepo } from '../helpers/git.js';
import { doc, docs } from '../helpers/engine.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { until } from '../helpers/wait.js';

const TOKEN = 'test-api-token-0123456789';
let repo: TempRepo;
let work: { dir: string; cleanup: () => void };
let server: ServeProcess | undefined;

const CONFIG = (recordFile: string) =>
  [
    'drivers:',
    '  jobs:',
    '    type: command',
    '    actions:',
    `      record: [node, -e, "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\\\n')", ${JSON.stringify(recordFile)}, "\${TASK} \${NAME}"]`,
  ].join('\n') + '\n';

const task = (name: string, extra: Record<string, unknown> = {}) =>
  doc('Task', name, { objectType: 'jobs', target: { name: 'obj' }, action: 'record', ...extra });
const trigger = (name: string, taskName: string) =>
  doc('EventTrigger', name, { event: { type: 'jobs', name: 'go' }, tasks: [taskName] });

async function post(url: string, body: unknown, token: string | null = TOKEN): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

const readRecords = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

beforeEach(async () => {
  repo = await tempRepo();
  work = tempDir('taskops-serve-');
});
afterEach(async () => {
  await server?.kill('SIGKILL');
  server = undefined;
  repo.cleanup();
  work.cleanup();
});

describe('taskops serve on a git repository', () => {
  it('applies new commits, refuses broken ones while the old tasks keep running, authenticates, fires once schedules, exits 0 on SIGTERM', async () => {
    const records = path.join(work.dir, 'records.txt');
    const configFile = path.join(work.dir, 'taskops.config.yaml');
    (await import('node:fs')).writeFileSync(configFile, CONFIG(records));
    await repo.commit('first', {
      'manifests/a.yaml': docs(
        task('first-task', { concurrency: 'allow' }),
        trigger('go-first', 'first-task'),
      ),
    });
    const dataDir = path.join(work.dir, 'data');
    server = await startServe({
      globalArgs: ['--data-dir', dataDir, '--config', configFile],
      serveArgs: ['--repo', repo.dir, '--ref', 'main', '--path', 'manifests', '--poll-interval', '1s'],
      env: { TASKOPS_API_TOKEN: TOKEN },
    });
    const status = async () =>
      (await (
        await fetch(`${server!.url}/api/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as {
        appliedRevision: string;
        sync: { lastError: { revision: string; problems: string[] } | null };
      };
    const firstSha = (await repo.git.revparse(['HEAD'])).trim();
    expect((await status()).appliedRevision).toBe(firstSha);

    // Unauthenticated and authenticated event posts.
    expect((await post(`${server.url}/api/v1/events`, { type: 'jobs', name: 'go' }, null)).status).toBe(401);
    expect(
      (await post(`${server.url}/api/v1/events`, { type: 'jobs', name: 'go' }, 'wrong-token')).status,
    ).toBe(401);
    const accepted = await post(`${server.url}/api/v1/events`, { type: 'jobs', name: 'go' });
    expect(accepted.status).toBe(202);
    expect(((await accepted.json()) as { id: string }).id).toMatch(/^evt_/);
    await until(() => readRecords(records).includes('first-task obj'), 'the first task to run', 5000);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // The CLI client reaches the same API: a manual run and an event.
    const manual = await runCli(['run', 'first-task', '--server', server.url, '--output', 'json'], {
      env: { TASKOPS_API_TOKEN: TOKEN },
    });
    expect(manual.code).toBe(0);
    expect((JSON.parse(manual.stdout) as Array<{ trigger: { kind: string } }>)[0]!.trigger.kind).toBe(
      'manual',
    );
    const emitted = await runCli(['emit', 'jobs', 'go', '--server', server.url], {
      env: { TASKOPS_API_TOKEN: TOKEN },
    });
    expect(emitted.stdout).toMatch(/^event evt_\w+ accepted\n$/);
    await until(
      () => readRecords(records).split('first-task obj').length === 4,
      'the manual and emitted runs',
      5000,
    );

    // A new commit is applied within the poll interval + 1 s.
    const onceAt = new Date(Date.now() + 4000).toISOString().replace(/\.\d+Z$/, 'Z');
    const secondSha = await repo.commit('second', {
      'manifests/b.yaml': docs(
        doc('Schedule', 'soon', { once: onceAt }),
        task('second-task', { schedules: ['soon'] }),
      ),
    });
    const committedAt = Date.now();
    await until(
      async () => (await status()).appliedRevision === secondSha,
      'the second commit to be applied',
      5000,
    );
    expect(Date.now() - committedAt).toBeLessThan(2000 + 500);

    // A broken commit is refused; the last good state keeps running.
    const brokenSha = await repo.commit('broken', {
      'manifests/c.yaml':
        'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: broken}\nspec: {objectType: jobs}\n',
    });
    const refused = await until(
      async () => {
        const s = await status();
        return s.sync.lastError?.revision === brokenSha ? s : null;
      },
      'the broken commit to be refused',
      5000,
    );
    expect(refused!.appliedRevision).toBe(secondSha);
    expect(refused!.sync.lastError!.problems).toEqual([
      'manifests/c.yaml:4:7: Task/broken: spec.action is required',
    ]);
    await post(`${server.url}/api/v1/events`, { type: 'jobs', name: 'go' });
    await until(
      () => readRecords(records).split('first-task obj').length === 5,
      'the old task to run again',
      5000,
    );

    // The once schedule from the second commit fires on time.
    await until(() => readRecords(records).includes('second-task obj'), 'the once schedule to fire', 8000);
    // The action writes the record before the run is logged as finished.
    const scheduled = await until(
      () => readTaskLogs(dataDir).find((l) => l.task === 'second-task'),
      'the scheduled run to be logged',
      5000,
    );
    expect(scheduled.trigger).toMatchObject({ kind: 'schedule', name: 'soon' });
    expect(Math.abs(Date.parse(scheduled.startedAt) - Date.parse(onceAt))).toBeLessThan(1000);

    // SIGTERM exits 0; the refused revision emitted system/reconcile-failed once (kept in the store).
    expect(await server.kill('SIGTERM')).toBe(0);
    const db = new Database(path.join(dataDir, 'taskops.db'), { readonly: true });
    const failed = db
      .prepare(`SELECT object FROM events WHERE type = 'system' AND name = 'reconcile-failed'`)
      .all();
    db.close();
    expect(failed).toEqual([{ object: brokenSha }]);
  }, 40_000);

  it('refuses to listen beyond loopback without an API token', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(
      process.execPath,
      ['bin/taskops.js', '--data-dir', path.join(work.dir, 'd'), 'serve', work.dir, '--listen', '0.0.0.0:0'],
      {
        encoding: 'utf8',
        env: { ...process.env, TASKOPS_API_TOKEN: '' },
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without an API token');
  });
});
