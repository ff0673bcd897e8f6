import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createCommandDriver } from '../../src/engine/drivers/index.js';
import type { TaskSpec } from '../../src/manifest/types.js';
import type { RunRecord } from '../../src/store/types.js';
import { runCli } from '../helpers/cli.js';
import { driverRequest } from '../helpers/driver-request.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';

const node = process.execPath;
const ATTACK_MEMBER = (marker: string) => `-oProxyCommand=sh -c 'touch ${marker}'`;

/** Reads its options as OpenSSH does (-o KEY=VALUE or -oKEY=VALUE up to the host) and runs a ProxyCommand through sh. */
const FAKE_SSH = `
import { execSync } from 'node:child_process';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (!arg.startsWith('-o')) break;
  const option = arg === '-o' ? args[++i] : arg.slice(2);
  if (option.startsWith('ProxyCommand=')) execSync(option.slice('ProxyCommand='.length));
}
`;

/** A program that honours --exec=PROGRAM (leaving a marker where it would run it) and records its operands. */
const FAKE_SYNC = `
import { writeFileSync } from 'node:fs';
const [marker, record, ...args] = process.argv.slice(2);
let options = true;
for (const arg of args) {
  if (arg === '--') options = false;
  else if (options && arg.startsWith('--exec=')) writeFileSync(marker, arg);
}
writeFileSync(record, JSON.stringify(args));
`;

let dir: string;
let fixture: EngineFixture | undefined;

function workdir(): string {
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-sec-argv-'));
  writeFileSync(path.join(dir, 'fake-ssh.mjs'), FAKE_SSH);
  writeFileSync(path.join(dir, 'fake-sync.mjs'), FAKE_SYNC);
  return dir;
}

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const sshConfig = (root: string) => ({
  drivers: {
    vms: {
      type: 'command',
      actions: {
        'power-off': [
          node,
          path.join(root, 'fake-ssh.mjs'),
          '-o',
          'BatchMode=yes',
          '${NAME}',
          'sudo',
          'poweroff',
        ],
      },
    },
  },
});

const labTag = (members: string[]) => doc('Tag', 'lab', { category: 'vms', members });
const powerOffLab = doc('Task', 'power-off-lab', {
  objectType: 'vms',
  target: { tag: 'lab' },
  action: 'power-off',
});

describe('a committer cannot inject options into a command argv', () => {
  it('validate refuses the ProxyCommand Tag member at its file:line', async () => {
    const root = workdir();
    const manifests = path.join(root, 'manifests');
    mkdirSync(manifests);
    const marker = path.join(root, 'pwned');
    writeFileSync(path.join(manifests, 'tag.yaml'), labTag(['gpu-ws-01', ATTACK_MEMBER(marker)]));
    writeFileSync(path.join(manifests, 'task.yaml'), powerOffLab);
    const lines = readFileSync(path.join(manifests, 'tag.yaml'), 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('ProxyCommand')) + 1;

    const r = await runCli(['validate', manifests]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`tag\\.yaml:${line}:\\d+: Tag/lab: spec\\.members\\[1\\] must not begin with - `),
    );
  });

  it('validate refuses a Task target name that begins with -, and members with control characters or over 253 characters', async () => {
    const root = workdir();
    const manifests = path.join(root, 'manifests');
    mkdirSync(manifests);
    writeFileSync(
      path.join(manifests, 'tag.yaml'),
      labTag(['ok-member', 'bell\u0007member', 'x'.repeat(254)]),
    );
    writeFileSync(
      path.join(manifests, 'task.yaml'),
      doc('Task', 'one-vm', { objectType: 'vms', target: { name: '--help' }, action: 'power-off' }),
    );

    const r = await runCli(['validate', manifests]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /tag\.yaml:\d+:\d+: Tag\/lab: spec\.members\[1\] must not begin with - or contain/,
    );
    expect(r.stdout).toMatch(/tag\.yaml:\d+:\d+: Tag\/lab: spec\.members\[2\] is longer than 253 characters/);
    expect(r.stdout).toMatch(/task\.yaml:\d+:\d+: Task\/one-vm: spec\.target\.name must not begin with - /);
  });

  it('refuses the ProxyCommand member again at run time when it is written straight into the store', async () => {
    const root = workdir();
    const marker = path.join(root, 'pwned');
    fixture = await engineFixture({
      manifests: { 'm.yaml': docs(labTag(['gpu-ws-01']), powerOffLab) },
      config: sshConfig(root),
    });
    const live = await fixture.store.getObject('Tag', 'lab');
    await fixture.store.putObjectByHand(
      { ...live!, spec: { category: 'vms', members: ['gpu-ws-01', ATTACK_MEMBER(marker)] }, hash: 'by-hand' },
      fixture.clock.now(),
    );
    await fixture.engine.reload();

    await fixture.engine.runTask('power-off-lab');
    await fixture.engine.whenIdle();

    const runs = await fixture.store.listRuns({ task: 'power-off-lab' });
    const byTarget = new Map(runs.map((r) => [r.target.name, r]));
    expect(byTarget.get('gpu-ws-01')?.status).toBe('succeeded');
    const refused = byTarget.get(ATTACK_MEMBER(marker))!;
    expect(refused).toMatchObject({ status: 'failed', attempts: 0 });
    expect(refused.error).toContain('argv[4] "${NAME}"');
    expect(refused.error).toContain('begins with "-"');
    expect(existsSync(marker)).toBe(false);
  });

  describe('event fields', () => {
    async function emitSetup(action: string[]) {
      const root = workdir();
      const manifests = path.join(root, 'manifests');
      mkdirSync(manifests);
      writeFileSync(
        path.join(manifests, 'm.yaml'),
        docs(
          doc('Task', 'sync-user', { objectType: 'accounts', action: 'sync' }),
          doc('EventTrigger', 'on-user-sync', {
            event: { type: 'users', name: 'sync' },
            tasks: ['sync-user'],
          }),
        ),
      );
      const config = path.join(root, 'taskops.config.yaml');
      writeFileSync(
        config,
        stringify({ drivers: { accounts: { type: 'command', actions: { sync: action } } } }),
      );
      const dataDir = path.join(root, 'data');
      const cli = (...args: string[]) => runCli(['--data-dir', dataDir, '--config', config, ...args]);
      expect((await cli('reconcile', manifests)).code).toBe(0);
      return { root, cli };
    }
    const fakeSync = (root: string, ...rest: string[]) => [
      node,
      path.join(root, 'fake-sync.mjs'),
      path.join(root, 'pwned'),
      path.join(root, 'record.json'),
      ...rest,
    ];

    it('refuses --field user=--exec=/bin/sh in ${FIELD_user}, and never starts the program', async () => {
      const root = workdir();
      const { cli } = await emitSetup(fakeSync(root, '--user', '${FIELD_user}'));
      const r = await cli('emit', 'users', 'sync', '--field', 'user=--exec=/bin/sh', '--output', 'json');
      expect(r.code).toBe(1);
      const [run] = JSON.parse(r.stdout) as RunRecord[];
      expect(run).toMatchObject({ status: 'failed', attempts: 0 });
      expect(run!.error).toContain('argv[5] "${FIELD_user}"');
      expect(existsSync(path.join(root, 'pwned'))).toBe(false);
      expect(existsSync(path.join(root, 'record.json'))).toBe(false);
    });

    it('emit refuses an --object holding control characters before storing the event', async () => {
      const root = workdir();
      const { cli } = await emitSetup(fakeSync(root, '${FIELD_user}'));
      const r = await cli('emit', 'users', 'sync', '--object', 'vm\u001b[2J');
      expect(r.code).toBe(64);
      expect(r.stderr).toContain('holds the control character U+001B');
      expect(existsSync(path.join(root, 'record.json'))).toBe(false);
    });

    it('passes a value beginning with - when the operator put a literal -- before its slot', async () => {
      const root = workdir();
      const { cli } = await emitSetup(fakeSync(root, '--', '${FIELD_user}', '-x${FIELD_n}'));
      const r = await cli(
        'emit',
        'users',
        'sync',
        '--field',
        'user=-x',
        '--field',
        'n=--exec=y',
        '--output',
        'json',
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(root, 'record.json'), 'utf8'))).toEqual([
        '--',
        '-x',
        '-x--exec=y',
      ]);
      expect(existsSync(path.join(root, 'pwned'))).toBe(false);
    });

    it('counts only a literal -- of the operator, not one a variable expands to', async () => {
      const root = workdir();
      const { cli } = await emitSetup(fakeSync(root, '${FIELD_sep}', '${FIELD_user}'));
      const r = await cli(
        'emit',
        'users',
        'sync',
        '--field',
        'sep=--',
        '--field',
        'user=-x',
        '--output',
        'json',
      );
      expect(r.code).toBe(1);
      const [run] = JSON.parse(r.stdout) as RunRecord[];
      expect(run!.error).toContain('argv[4] "${FIELD_sep}"');
      expect(existsSync(path.join(root, 'record.json'))).toBe(false);
    });
  });

  describe('control characters', () => {
    const task: TaskSpec = { objectType: 'vms', action: 'touch', target: { name: 'x' } };

    it.each([
      ['NUL', 'a\u0000b'],
      ['CR', 'a\rb'],
      ['LF', 'a\nb'],
      ['ESC', 'a\u001b[2Jb'],
      ['TAB', 'a\tb'],
      ['DEL', 'a\u007fb'],
      ['C1 CSI', 'a\u009bb'],
    ])(
      'refuses a substituted value holding %s, even after --, and never starts the program',
      async (_what, value) => {
        const root = workdir();
        const marker = path.join(root, 'started');
        const vms = createCommandDriver('vms', {
          type: 'command',
          actions: { touch: [node, path.join(root, 'fake-sync.mjs'), marker, marker, '--', 'host=${NAME}'] },
        });
        const result = await vms.run(driverRequest(task, { target: value }));
        expect(result).toMatchObject({ ok: false, attempts: 0 });
        expect(result.error).toContain('argv[5] "host=${NAME}"');
        expect(result.error).toContain('control character');
        expect(existsSync(marker)).toBe(false);
      },
    );

    it('refuses control characters in an event field value, naming the field variable', async () => {
      const root = workdir();
      const marker = path.join(root, 'started');
      const vms = createCommandDriver('vms', {
        type: 'command',
        actions: { touch: [node, path.join(root, 'fake-sync.mjs'), marker, marker, '${FIELD_note}'] },
      });
      const event = { type: 'users', name: 'sync', fields: { note: 'line1\nline2' } };
      const result = await vms.run(driverRequest(task, { vars: { event } }));
      expect(result.error).toContain('${FIELD_note}');
      expect(existsSync(marker)).toBe(false);
    });
  });
});
