import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

/** Read commands against a running engine (`--server`, TASKOPS_SERVER), and serve's own log lines. */
let dir: string;
let server: ServeProcess;
const TOKEN = 'e2e-operator-token';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-server-cli-'));
  const repo = path.join(dir, 'repo');
  cpSync('examples/gpu-vms', repo, { recursive: true });
  writeFileSync(
    path.join(repo, 'failing.yaml'),
    [
      'apiVersion: taskops/v1',
      'kind: Task',
      'metadata: { name: disk-check }',
      'spec: { objectType: checks, action: disk }',
      '---',
      'apiVersion: taskops/v1',
      'kind: Task',
      'metadata: { name: first-boot }',
      'spec: { objectType: checks, action: ok, deleteAfterRun: true }',
      '',
    ].join('\n'),
  );
  const config = path.join(dir, 'taskops.config.yaml');
  writeFileSync(
    config,
    [
      'defaultTimezone: UTC',
      'drivers:',
      '  vms:',
      '    type: command',
      '    actions:',
      `      power-on: [node, ${path.resolve('examples/drivers/vm-power.mjs')}, 'on', '\${NAME}']`,
      `      power-off: [node, ${path.resolve('examples/drivers/vm-power.mjs')}, 'off', '\${NAME}']`,
      '  checks:',
      '    type: command',
      '    actions:',
      `      disk: [node, -e, 'console.error("disk full on /var"); process.exit(3)']`,
      `      ok: [node, -e, '']`,
      '',
    ].join('\n'),
  );
  server = await startServe({
    globalArgs: ['--data-dir', path.join(dir, 'data'), '--config', config],
    serveArgs: [repo],
    env: { TASKOPS_API_TOKEN: TOKEN, TASKOPS_EXAMPLE_VMS: path.join(dir, 'vms.jsonl') },
  });
}, 30_000);
afterAll(async () => {
  await server?.kill('SIGTERM');
});

/** The CLI from another directory with no data dir of its own: everything comes from the server. */
const cli = (...args: string[]) =>
  runCli(['--data-dir', path.join(dir, 'elsewhere'), ...args], {
    env: { TASKOPS_SERVER: server.url, TASKOPS_API_TOKEN: TOKEN },
  });

describe('read commands with --server', () => {
  it('status reads the running engine, by TASKOPS_SERVER or --server', async () => {
    const r = await cli('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Applied revision: path:\S+repo@\w+ at /);
    expect(r.stdout).toMatch(/^Task\s+4\s+4\s+0\s+0$/m);
    const flag = await runCli(['status', '--server', server.url, '--output', 'json'], {
      env: { TASKOPS_API_TOKEN: TOKEN, TASKOPS_SERVER: undefined },
    });
    expect((JSON.parse(flag.stdout) as { objects: { Tag: { total: number } } }).objects.Tag.total).toBe(1);
  });

  it('get, describe and preview read the live objects of the server', async () => {
    expect((await cli('get', 'tasks')).stdout).toMatch(
      /^disk-check\s+enabled\s+checks disk → no target\s+taskops$/m,
    );
    const described = await cli('describe', 'schedule/friday-6pm');
    expect(described.stdout).toContain('Wiring:\n  fires Task/power-off-gpu-vms\n');
    const preview = await cli('preview', 'friday-6pm', '-n', '1', '--after', '2026-03-06T17:00');
    expect(preview.stdout).toBe(
      'Schedule/friday-6pm (America/New_York): next 1 firing\n  Fri 2026-03-06 18:00 EST (-05:00)  2026-03-06T23:00:00.000Z\n',
    );
    expect((await cli('describe', 'task/disk-chek')).stderr).toBe(
      `taskops: Task/disk-chek is not in ${server.url} (did you mean disk-check?)\n`,
    );
  });

  it('run --keep --server leaves a deleteAfterRun task in place; run --server with a typo gets a did-you-mean', async () => {
    expect((await cli('run', 'first-boot', '--keep', '--server', server.url)).code).toBe(0);
    expect((await cli('get', 'tasks', 'first-boot')).stdout).toMatch(/first-boot\s+enabled/);
    const typo = await cli('run', 'first-bot', '--server', server.url);
    expect(typo.stderr).toBe(`taskops: Task/first-bot is not on ${server.url} (did you mean first-boot?)\n`);
  });

  it('a failed run: logs --server shows it, and serve logs it at warn with its error', async () => {
    const run = await cli('run', 'disk-check', '--server', server.url, '--output', 'json');
    const [queued] = JSON.parse(run.stdout) as Array<{ runId: string }>;
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('failed'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = (await cli('logs', '--task', 'disk-check')).stdout;
    }
    expect(logs).toMatch(
      new RegExp(`^${queued!.runId}\\s+\\S+\\s+disk-check\\s+failed\\s+\\d+ms\\s+manual`, 'm'),
    );
    const detail = await cli('logs', '--run', queued!.runId);
    expect(detail.stdout).toContain('stderr:\n  disk full on /var\n');
    const line = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; runId?: string; error?: string; msg: string })
      .find((l) => l.runId === queued!.runId);
    expect(line).toMatchObject({ level: 40, error: expect.stringContaining('disk full on /var') });
    expect(line!.msg).toMatch(/^run failed: disk-check: /);
  });

  it('logs --follow prints runs as they finish, until interrupted', async () => {
    const follow = spawn(
      process.execPath,
      ['bin/taskops.js', 'logs', '--follow', '--task', 'power-off-gpu-vms'],
      {
        env: { ...process.env, TASKOPS_SERVER: server.url, TASKOPS_API_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    follow.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 500));
    expect((await cli('run', 'power-off-gpu-vms', '--server', server.url)).code).toBe(0);
    for (let i = 0; i < 100 && out.trim().split('\n').length < 3; i++)
      await new Promise((r) => setTimeout(r, 100));
    follow.kill('SIGINT');
    expect(await exited).toBe(0);
    const rows = out.trim().split('\n');
    expect(rows).toHaveLength(3);
    for (const row of rows)
      expect(row).toMatch(
        /^run_\S+ {2}\S+ {2}power-off-gpu-vms {2}succeeded {2}\d+ms {2}manual {2}vms\/gpu-ws-0\d {2}1$/,
      );
  });
});

describe('serve --log-format pretty', () => {
  it('writes pino-pretty lines, a failed run among them at WARN with its error', async () => {
    const pretty = await startServe({
      globalArgs: [
        '--data-dir',
        path.join(dir, 'pretty-data'),
        '--config',
        path.join(dir, 'taskops.config.yaml'),
      ],
      serveArgs: [path.join(dir, 'repo'), '--log-format', 'pretty', '--no-color'],
    });
    try {
      const run = await runCli(['run', 'disk-check', '--server', pretty.url], {
        env: { TASKOPS_SERVER: undefined, TASKOPS_API_TOKEN: undefined },
      });
      expect(run.code).toBe(0);
      for (let i = 0; i < 100 && !pretty.output().includes('run failed'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const line = pretty
        .output()
        .split('\n')
        .find((l) => l.includes('run failed: disk-check'));
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: run failed: disk-check: .*disk full on \/var/);
      expect(pretty.output()).not.toMatch(/^\{"level"/m);
    } finally {
      await pretty.kill('SIGTERM');
    }
  }, 30_000);
});
