import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dataDir: string;
let vmsFile: string;
const CONFIG = 'examples/taskops.config.yaml';
const cli = (...args: string[]) =>
  runCli(['--data-dir', dataDir, '--config', CONFIG, ...args], { env: { TASKOPS_EXAMPLE_VMS: vmsFile } });

beforeEach(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-cli-'));
  dataDir = path.join(dir, 'data');
  vmsFile = path.join(dir, 'vms.jsonl');
  const applied = await cli('reconcile', 'examples/gpu-vms');
  expect(applied.code).toBe(0);
});

describe('taskops emit, run, logs and preview', () => {
  it('emit processes the event in-process and waits for the runs it starts', async () => {
    const r = await cli('emit', 'users', 'login', '--object', 'JThompson', '--output', 'json');
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as Array<{ task: string; status: string; target: { name: string } }>;
    expect(runs.map((x) => [x.task, x.target.name, x.status]).sort()).toEqual([
      ['power-on-gpu-vms', 'gpu-ws-01', 'succeeded'],
      ['power-on-gpu-vms', 'gpu-ws-02', 'succeeded'],
      ['power-on-gpu-vms', 'gpu-ws-03', 'succeeded'],
    ]);
    expect(readFileSync(vmsFile, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('emit exits 0 with "no runs" when nothing matches, and 64 on a malformed field', async () => {
    const none = await cli('emit', 'users', 'login', '--object', 'nobody');
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe('no runs');
    const bad = await cli('emit', 'users', 'login', '--field', 'novalue');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--field takes key=value');
  });

  it('run triggers a task manually and logs it with trigger kind manual', async () => {
    const r = await cli('run', 'power-off-gpu-vms');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/power-off-gpu-vms\s+gpu-ws-01\s+succeeded/);
    const logs = await cli('logs', '--format', 'json', '--task', 'power-off-gpu-vms');
    const lines = JSON.parse(logs.stdout) as Array<{ trigger: { kind: string }; status: string }>;
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.trigger.kind === 'manual' && l.status === 'succeeded')).toBe(true);
  });

  it('run of an unknown task exits 1 with a clear message', async () => {
    const r = await cli('run', 'no-such-task');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('taskops: Task/no-such-task is not in the live state\n');
  });

  it('logs prints a table, csv, and filters by status and --since', async () => {
    await cli('emit', 'users', 'logout', '--object', 'JThompson');
    const table = await cli('logs');
    expect(table.stdout.split('\n')[0]).toMatch(
      /^RUN\s+STARTED\s+TASK\s+STATUS\s+DURATION\s+TRIGGER\s+TARGET\s+ATTEMPTS\s+ERROR$/,
    );
    expect(table.stdout).toContain('event:jthompson-logout');
    const csv = await cli('logs', '--format', 'csv');
    expect(csv.stdout.split('\n')[0]).toBe(
      'RUN,STARTED,TASK,STATUS,DURATION_MS,TRIGGER,TARGET,ATTEMPTS,ERROR',
    );
    expect(csv.stdout.trim().split('\n')).toHaveLength(4);
    expect((await cli('logs', '--status', 'failed')).stdout.trim()).toBe('no runs');
    expect((await cli('logs', '--since', 'soon')).code).toBe(64);
  });

  it('preview lists the next firings in the schedule zone, from the live state or from files', async () => {
    const live = await cli('preview', 'friday-6pm', '--count', '2', '--after', '2026-10-26T00:00:00Z');
    expect(live.stdout).toBe(
      [
        'Schedule/friday-6pm (America/New_York): next 2 firings',
        '  Fri 2026-10-30 18:00 EDT (-04:00)  2026-10-30T22:00:00.000Z',
        '  Fri 2026-11-06 18:00 EST (-05:00)  2026-11-06T23:00:00.000Z',
        '',
      ].join('\n'),
    );
    const files = await cli(
      'preview',
      'friday-6pm',
      'examples/gpu-vms',
      '--count',
      '1440',
      '--output',
      'json',
    );
    expect(JSON.parse(files.stdout).firings).toHaveLength(1440);
    expect((await cli('preview', 'friday-6pm', '--count', '1441')).code).toBe(64);
  });
});

describe('global options', () => {
  it('an explicit --data-dir wins over TASKOPS_DATA_DIR', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'taskops-env-'));
    const r = await runCli(['--data-dir', dataDir, 'status', '--output', 'json'], {
      env: { TASKOPS_DATA_DIR: elsewhere },
    });
    expect((JSON.parse(r.stdout) as { objects: { Task: { total: number } } }).objects.Task.total).toBe(2);
    // The variable is used without the flag: its (storeless) data dir is the one the error names.
    const fromEnv = await runCli(['status', '--output', 'json'], { env: { TASKOPS_DATA_DIR: elsewhere } });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain(`the data dir ${elsewhere} holds no store (taskops.db)`);
  });
});
