import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** Issue 15: what an operator sees at the terminal, message by message. */
let dir: string;
let dataDir: string;
let vmsFile: string;
const CONFIG = 'examples/taskops.config.yaml';
const cli = (...args: string[]) =>
  runCli(['--data-dir', dataDir, '--config', CONFIG, ...args], {
    env: { TASKOPS_EXAMPLE_VMS: vmsFile, TASKOPS_SERVER: undefined, TASKOPS_API_TOKEN: undefined },
  });

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-operator-'));
  dataDir = path.join(dir, 'data');
  vmsFile = path.join(dir, 'vms.jsonl');
  expect((await cli('reconcile', 'examples/gpu-vms')).code).toBe(0);
});

describe('read commands never create or modify a store', () => {
  const missing = () => path.join(dir, 'typo');
  const onMissing = (...args: string[]) => runCli(['--data-dir', missing(), '--config', CONFIG, ...args]);
  const message = () =>
    `taskops: the data dir ${missing()} does not exist: give --data-dir (or TASKOPS_DATA_DIR) the directory ` +
    'that serve or reconcile uses, or read a running engine with --server URL\n';

  for (const args of [
    ['status'],
    ['logs'],
    ['preview', 'friday-6pm'],
    ['get', 'tasks'],
    ['describe', 'task/power-off-gpu-vms'],
    ['deliveries'],
  ]) {
    it(`${args[0]} on a missing data dir is an error that names it, and creates nothing`, async () => {
      const r = await onMissing(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(message());
      expect(existsSync(missing())).toBe(false);
    });
  }

  for (const args of [
    ['status'],
    ['preview', 'friday-6pm'],
    ['get', 'tasks'],
    ['describe', 'task/power-off-gpu-vms'],
    ['deliveries'],
    ['deliveries', '--failed', '--output', 'json'],
    ['run', 'power-off-gpu-vms', '--dry-run'],
  ]) {
    it(`${args.join(' ')} on a data dir without a store names it too, and leaves it empty`, async () => {
      const empty = path.join(dir, 'empty');
      mkdirSync(empty);
      const r = await runCli(['--data-dir', empty, ...args], { env: { TASKOPS_SERVER: undefined } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `taskops: the data dir ${empty} holds no store (taskops.db): nothing was reconciled into it yet; ` +
          'run taskops reconcile or serve with this --data-dir first, or read a running engine with --server URL\n',
      );
      expect(readdirSync(empty)).toEqual([]);
    });
  }

  // These read manifests, not the live state: against no store they plan or answer from the files alone.
  for (const args of [
    ['logs'],
    ['validate', 'examples/gpu-vms'],
    ['reconcile', '--dry-run', 'examples/gpu-vms'],
    ['preview', 'friday-6pm', 'examples/gpu-vms'],
  ]) {
    it(`${args.join(' ')} on a data dir without a store leaves it empty`, async () => {
      const empty = path.join(dir, 'empty');
      mkdirSync(empty);
      const r = await runCli(['--data-dir', empty, '--config', CONFIG, ...args], {
        env: { TASKOPS_EXAMPLE_VMS: vmsFile, TASKOPS_SERVER: undefined },
      });
      expect(r.code).toBe(0);
      expect(readdirSync(empty)).toEqual([]);
    });
  }

  it('status, get, describe and deliveries leave the store file byte for byte as it was', async () => {
    const store = path.join(dataDir, 'taskops.db');
    const before = readFileSync(store);
    expect((await cli('status')).code).toBe(0);
    expect((await cli('get', 'schedules')).code).toBe(0);
    expect((await cli('describe', 'schedule/friday-6pm')).code).toBe(0);
    expect((await cli('deliveries')).code).toBe(0);
    expect(readFileSync(store).equals(before)).toBe(true);
    // A reader of a WAL database may leave SQLite's shared-memory index; it never writes the log.
    const wal = path.join(dataDir, 'taskops.db-wal');
    if (existsSync(wal)) expect(statSync(wal).size).toBe(0);
  });
});

describe('errors say what is wrong, where, and what to do', () => {
  it('an unknown command is one line with its did-you-mean, then a --help hint', async () => {
    const r = await cli('stauts');
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "taskops: unknown command 'stauts' (did you mean status?)\nRun 'taskops --help' for the commands and global options.\n",
    );
  });

  it("an unknown option names the command's --help", async () => {
    const r = await cli('logs', '--bogus');
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(
      "taskops: unknown option '--bogus'\nRun 'taskops logs --help' for its arguments and options.\n",
    );
  });

  it('a --server without a scheme says to add http://', async () => {
    const r = await cli('emit', 'users', 'login', '--server', '127.0.0.1:8080');
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(
      'taskops: --server "127.0.0.1:8080" has no scheme: write http://127.0.0.1:8080 (or https:// when serve sits behind TLS)\n',
    );
    const env = await runCli(['status'], { env: { TASKOPS_SERVER: 'localhost:8080' } });
    expect(env.stderr).toBe(
      'taskops: TASKOPS_SERVER "localhost:8080" has no scheme: write http://localhost:8080 (or https:// when serve sits behind TLS)\n',
    );
  });

  it('a token file that does not exist is named', async () => {
    const r = await cli('status', '--server', 'http://127.0.0.1:9', '--api-token-file', '/nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('taskops: cannot read the API token file /nope: it does not exist\n');
  });

  describe('a 401 names what to set', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'unauthorized', message: 'missing or invalid bearer token' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address() as { port: number };
      url = `http://127.0.0.1:${address.port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('without a token: TASKOPS_API_TOKEN or --api-token-file', async () => {
      const r = await cli('status', '--server', url);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `taskops: ${url} answered 401: missing or invalid bearer token; it requires an API token: set ` +
          'TASKOPS_API_TOKEN to the token serve was started with, or pass --api-token-file FILE\n',
      );
    });

    it('with a wrong token from the variable or from a file', async () => {
      const viaEnv = await runCli(['logs', '--server', url], { env: { TASKOPS_API_TOKEN: 'wrong' } });
      expect(viaEnv.stderr).toBe(
        `taskops: ${url} answered 401: missing or invalid bearer token; TASKOPS_API_TOKEN is not the token ` +
          "serve was started with: set it to the server's token\n",
      );
      const file = path.join(dir, 'token');
      writeFileSync(file, 'wrong\n');
      const viaFile = await cli('get', 'tasks', '--server', url, '--api-token-file', file);
      expect(viaFile.stderr).toBe(
        `taskops: ${url} answered 401: missing or invalid bearer token; the token in ${file} is not the one ` +
          "serve was started with: put the server's token in that file\n",
      );
    });
  });

  it('a misspelt task in run gets a did-you-mean', async () => {
    const r = await cli('run', 'power-of-gpu-vms');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'taskops: Task/power-of-gpu-vms is not in the live state (did you mean power-off-gpu-vms?)\n',
    );
  });

  it('a misspelt schedule in preview gets a did-you-mean, from the store and from files', async () => {
    const live = await cli('preview', 'fridy-6pm');
    expect(live.code).toBe(1);
    expect(live.stderr).toBe(
      `taskops: Schedule/fridy-6pm is not in the live state of ${dataDir} (did you mean friday-6pm?)\n`,
    );
    const files = await cli('preview', 'friday-6p', 'examples/gpu-vms');
    expect(files.stderr).toBe(
      'taskops: Schedule/friday-6p is not defined below examples/gpu-vms (did you mean friday-6pm?)\n',
    );
  });

  it('misspelt kinds and names in get and describe get a did-you-mean', async () => {
    expect((await cli('get', 'trigers')).stderr).toBe(
      'taskops: "trigers" is not a kind: use one of tasks, schedules, triggers, webhooks, tags (did you mean triggers?)\n',
    );
    expect((await cli('describe', 'tag/JThompson-GPV')).stderr).toBe(
      `taskops: Tag/JThompson-GPV is not in the live state of ${dataDir} (did you mean JThompson-GPU?)\n`,
    );
  });

  it('in-process emit refuses an event the API refuses (exit 64), with the fix', async () => {
    const r = await cli('emit', 'Users', 'Login');
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'taskops: event type "Users" is not valid: event types and names are lowercase letters, digits and -, ' +
        'starting with a letter, at most 63 characters, as the API requires (did you mean users?)\n',
    );
    const long = await cli('emit', 'users', 'login', '--field', `note=${'x'.repeat(4097)}`);
    expect(long.code).toBe(64);
    expect(long.stderr).toBe(
      'taskops: fields.note must NOT have more than 4096 characters, so the API would refuse this event\n',
    );
  });
});

describe('logs', () => {
  beforeEach(async () => {
    expect((await cli('run', 'power-off-gpu-vms')).code).toBe(0);
    expect((await cli('emit', 'users', 'login', '--object', 'JThompson')).code).toBe(0);
  });

  it('shows the run id in a RUN column, and --limit keeps the last runs', async () => {
    const json = JSON.parse((await cli('logs', '--output', 'json')).stdout) as Array<{ runId: string }>;
    expect(json).toHaveLength(6);
    const table = (await cli('logs', '--limit', '2')).stdout.trim().split('\n');
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^RUN\s+STARTED\s+TASK/);
    expect(table.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(json.slice(-2).map((r) => r.runId));
    expect((await cli('logs', '--limit', '0')).stderr).toBe(
      'taskops: --limit must be a whole number from 1 to 500 (got 0)\n',
    );
  });

  it('gives durations as numbers in csv and json, and takes --format as an alias of --output', async () => {
    const csv = (await cli('logs', '--output', 'csv')).stdout.trim().split('\n');
    expect(csv[0]).toBe('RUN,STARTED,TASK,STATUS,DURATION_MS,TRIGGER,TARGET,ATTEMPTS,ERROR');
    for (const row of csv.slice(1)) expect(row.split(',')[4]).toMatch(/^\d+$/);
    const json = JSON.parse((await cli('logs', '--format', 'json')).stdout) as Array<{ durationMs: unknown }>;
    expect(json.every((r) => typeof r.durationMs === 'number')).toBe(true);
    expect((await cli('logs', '--output', 'csv', '--format', 'json')).code).toBe(64);
  });

  it('--run shows one run in detail with the command argv, exit code and output', async () => {
    const [first] = JSON.parse((await cli('logs', '--output', 'json', '--limit', '1')).stdout) as Array<{
      runId: string;
      target: { name: string };
    }>;
    const r = await cli('logs', '--run', first!.runId);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run       ${first!.runId}\n`);
    expect(r.stdout).toContain('Trigger   event');
    expect(r.stdout).toMatch(/Argv {6}"node" ".*vm-power\.mjs" "on" "gpu-ws-0\d"/);
    expect(r.stdout).toContain('Exit code 0');
    expect(r.stdout).toContain(`stdout:\n  ${first!.target.name}: powered on\n`);
    const none = await cli('logs', '--run', 'm-nope');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'taskops: no run "m-nope" in the task logs: copy the id from the RUN column of taskops logs\n',
    );
  });

  it('--follow needs a server', async () => {
    const r = await cli('logs', '--follow');
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(
      'taskops: --follow reads a running engine: add --server URL (or set TASKOPS_SERVER); the files in ' +
        '<data-dir>/logs are only read once\n',
    );
  });
});

describe('run --keep', () => {
  it('runs a deleteAfterRun task without retiring it; a plain run retires it', async () => {
    const repo = path.join(dir, 'repo');
    cpSync('examples/gpu-vms', repo, { recursive: true });
    writeFileSync(
      path.join(repo, 'once.yaml'),
      [
        'apiVersion: taskops/v1',
        'kind: Task',
        'metadata: { name: first-boot }',
        'spec: { objectType: vms, target: { tag: JThompson-GPU }, action: power-on, deleteAfterRun: true }',
        '',
      ].join('\n'),
    );
    expect((await cli('reconcile', repo)).code).toBe(0);
    const kept = await cli('run', 'first-boot', '--keep');
    expect(kept.code).toBe(0);
    expect((await cli('get', 'tasks', 'first-boot')).stdout).toMatch(/first-boot\s+enabled/);
    expect((await cli('run', 'first-boot')).code).toBe(0);
    expect((await cli('get', 'tasks', 'first-boot')).stdout).toMatch(/first-boot\s+retired/);
  });
});

describe('preview --after', () => {
  it("reads a time without an offset in the schedule's zone, and an offset as given", async () => {
    const wall = await cli('preview', 'friday-6pm', '-n', '1', '--after', '2026-03-06 17:59');
    expect(wall.stdout).toContain('Fri 2026-03-06 18:00 EST (-05:00)  2026-03-06T23:00:00.000Z');
    const later = await cli('preview', 'friday-6pm', '-n', '1', '--after', '2026-03-06T18:00');
    expect(later.stdout).toContain('2026-03-13T22:00:00.000Z');
    const utc = await cli('preview', 'friday-6pm', '-n', '1', '--after', '2026-03-06T23:30:00Z');
    expect(utc.stdout).toContain('2026-03-13T22:00:00.000Z');
  });

  it('refuses anything else with exit 64', async () => {
    for (const value of ['5', 'tomorrow', '03/06/2026', '2026-03-06T18:00:00+0100']) {
      const r = await cli('preview', 'friday-6pm', '--after', value);
      expect(r.code).toBe(64);
      expect(r.stderr).toBe(
        `taskops: --after ${JSON.stringify(value)} is not a time: give ISO 8601 with an offset ` +
          '(2026-03-01T09:00:00Z, 2026-03-01T09:00:00+01:00) or a wall time in America/New_York ' +
          '(2026-03-01T09:00, 2026-03-01)\n',
      );
    }
  });
});

describe('get and describe', () => {
  it('get lists a kind with each schedule’s next firing in its own zone', async () => {
    const r = await cli('get', 'schedules');
    expect(r.stdout).toMatch(/^NAME\s+STATE\s+WHEN\s+NEXT\n/);
    expect(r.stdout).toMatch(
      /friday-6pm\s+enabled\s+every 1 weeks on friday at 18:00\s+Fri \d{4}-\d\d-\d\d 18:00 E[SD]T/,
    );
  });

  it('describe shows the wiring both ways, next firings, last runs and the source file:line', async () => {
    await cli('run', 'power-off-gpu-vms');
    const r = await cli('describe', 'task/power-off-gpu-vms', 'examples/gpu-vms');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Source:     examples/gpu-vms/tasks.yaml:12\n');
    expect(r.stdout).toContain(
      'Wiring:\n  fired by Schedule/friday-6pm\n  runs on the members of Tag/JThompson-GPU\n  started by EventTrigger/jthompson-logout\n',
    );
    expect(r.stdout).toMatch(/Next firings:\n {2}Fri \d{4}-\d\d-\d\d 18:00 E[SD]T/);
    expect(r.stdout).toMatch(/Last runs:\n( {2}run_\S+ {2}\S+ {2}succeeded {2}\d+ms\n){3}/);
    const tag = await cli('describe', 'tag/JThompson-GPU');
    expect(tag.stdout).toContain(
      'Wiring:\n  targeted by Task/power-off-gpu-vms\n  targeted by Task/power-on-gpu-vms\n',
    );
  });
});

describe('run --dry-run', () => {
  it('shows the argv of each target and runs nothing', async () => {
    const r = await cli('run', 'power-off-gpu-vms', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Task/power-off-gpu-vms: dry run, nothing was executed; 3 calls',
        '  target gpu-ws-01',
        '    argv: "node" "drivers/vm-power.mjs" "off" "gpu-ws-01"',
        '  target gpu-ws-02',
        '    argv: "node" "drivers/vm-power.mjs" "off" "gpu-ws-02"',
        '  target gpu-ws-03',
        '    argv: "node" "drivers/vm-power.mjs" "off" "gpu-ws-03"',
        '',
      ].join('\n'),
    );
    expect(existsSync(vmsFile)).toBe(false);
    expect((await cli('logs')).stdout).toBe('no runs\n');
  });

  it('shows a webhook request with its URL masked and its body, reading no secret', async () => {
    const alerts = path.join(dir, 'alerts');
    mkdirSync(alerts);
    writeFileSync(
      path.join(alerts, 'hook.yaml'),
      [
        'apiVersion: taskops/v1',
        'kind: Webhook',
        'metadata: { name: hook }',
        'spec: { url: "https://hooks.example.com/services/T000/B000/SECRETPART?key=abc" }',
        '---',
        'apiVersion: taskops/v1',
        'kind: Task',
        'metadata: { name: notify }',
        'spec: { objectType: webhook, target: { name: hook }, action: send, params: { payload: { text: "run ${RUN_ID} of ${TASK}" } } }',
        '',
      ].join('\n'),
    );
    const data = path.join(dir, 'alerts-data');
    expect((await runCli(['--data-dir', data, 'reconcile', alerts])).code).toBe(0);
    const r = await runCli(['--data-dir', data, 'run', 'notify', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Task/notify: dry run, nothing was executed; 1 call',
        '  target hook',
        '    POST https://hooks.example.com/…',
        '    headers: content-type (values not shown)',
        '    body: {"text":"run dry-run of notify"}',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('SECRETPART');
  });
});

describe('completion and init', () => {
  const complete = (script: string, words: string[]) =>
    spawnSync(
      'bash',
      [
        '-c',
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _taskops; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    );

  it('completion bash completes commands, options and kinds in a real bash', async () => {
    const r = await cli('completion', 'bash');
    expect(r.code).toBe(0);
    expect(complete(r.stdout, ['taskops', 'st']).stdout).toBe('status\n');
    expect(complete(r.stdout, ['taskops', '--data-dir', 'x', 'logs', '--fo']).stdout).toBe(
      '--follow --format\n',
    );
    expect(complete(r.stdout, ['taskops', 'get', 'sch']).stdout).toBe('schedules\n');
    expect(complete(r.stdout, ['taskops', 'describe', 'ta']).stdout).toBe('task/ tag/\n');
  });

  it('completion zsh is the same function behind zsh’s bash-completion layer; other shells are refused', async () => {
    const r = await cli('completion', 'zsh');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      '#compdef taskops',
      '# taskops completion for zsh (taskops completion zsh)',
      'autoload -U +X bashcompinit && bashcompinit',
    ]);
    expect(r.stdout).toContain('complete -o default -F _taskops taskops\n');
    const fish = await cli('completion', 'fish');
    expect(fish.code).toBe(64);
    expect(fish.stderr).toBe('taskops: completion takes bash or zsh (got fish)\n');
  });

  it('init writes a starter repo that validates, plans and runs; a second init refuses', async () => {
    const target = path.join(dir, 'ops');
    const r = await cli('init', target);
    expect(r.code).toBe(0);
    for (const file of [
      'taskops.config.yaml',
      'manifests/task.yaml',
      'manifests/schedule.yaml',
      '.github/workflows/taskops-plan.yml',
    ])
      expect(r.stdout).toContain(`created ${path.join(target, file)}\n`);
    const config = path.join(target, 'taskops.config.yaml');
    const manifests = path.join(target, 'manifests');
    expect(readFileSync(config, 'utf8')).toMatch(/^secrets:\n {2}env: \[\]\n {2}files: \[\]\n/m);
    const own = (...args: string[]) =>
      runCli(['--data-dir', path.join(target, 'data'), '--config', config, ...args]);
    expect((await own('validate', manifests)).stdout).toBe('2 manifests in 2 files: OK\n');
    expect((await own('reconcile', manifests)).code).toBe(0);
    const run = await own('run', 'say-hello', '--output', 'json');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Array<{ details: { stdout: string } }>)[0]!.details.stdout).toBe(
      'hello, world, from say-hello\n',
    );
    const again = await cli('init', target);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exist: nothing was written;');
  });
});
