import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/store/types.js';
import { doc } from '../helpers/engine.js';
import { terminalLab, type TerminalLab } from '../helpers/terminal-lab.js';

/** Sets the terminal's title (OSC 0) and clears the screen (CSI 2J) when printed raw. */
const TITLE = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J';
const EVIL_MEMBER = `${TITLE}gpu-ws-99`;
const EVIL_TASK = `${CLEAR}power-off`;
const EVIL_SCHEDULE = `${TITLE}weekly`;
const shownTitle = String.raw`\u001b]0;pwned\u0007`;
const shownClear = String.raw`\u001b[2J`;

/** Any control character other than the line feeds and tabs that lay text out. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** A command that fails with an escape sequence on stderr, as a compromised or hostile host could answer. */
const FAILING = `process.stderr.write('\\u001b[2J\\u001b]0;pwned\\u0007 disk on fire\\n'); process.exit(1);`;

let root: string;
let cli: TerminalLab['cli'];
let putByHand: TerminalLab['putByHand'];

function expectNoRawControl(text: string): void {
  expect(RAW_CONTROL.exec(text)?.[0], `raw control character in:\n${JSON.stringify(text)}`).toBeUndefined();
}

beforeEach(async () => {
  ({ root, cli, putByHand } = await terminalLab({
    prefix: 'taskops-sec-terminal-',
    failingScript: FAILING,
    more: [
      doc('EventTrigger', 'on-logout', {
        event: { type: 'users', name: 'logout' },
        tasks: ['power-off-lab'],
      }),
    ],
  }));
  // Written straight into the store (as by another version or by hand): validation never saw these names.
  await putByHand('Tag', 'lab', { category: 'vms', members: ['gpu-ws-01', EVIL_MEMBER] });
  await putByHand('Task', EVIL_TASK, {
    objectType: 'vms',
    target: { tag: 'lab' },
    action: 'power-off',
    schedules: ['friday-6pm'],
  });
});

describe('escape sequences from committers and event senders never reach the terminal raw', () => {
  it('run prints task, target and error escaped (json keeps the exact values)', async () => {
    const r = await cli('run', EVIL_TASK);
    expect(r.code).toBe(1);
    expectNoRawControl(r.stdout);
    expect(r.stdout).toContain(`${shownClear}power-off`);
    expect(r.stdout).toContain(`${shownTitle}gpu-ws-99`);
    expect(r.stdout).toContain(`exited with code 1: ${shownClear}${shownTitle} disk on fire`);

    const json = await cli('run', EVIL_TASK, '--output', 'json');
    const runs = JSON.parse(json.stdout) as RunRecord[];
    expect(runs.map((x) => x.target.name).sort()).toEqual([EVIL_MEMBER, 'gpu-ws-01'].sort());
  });

  it('emit prints the runs it started escaped', async () => {
    const r = await cli('emit', 'users', 'logout', '--object', 'JThompson');
    expectNoRawControl(r.stdout);
    expect(r.stdout).toContain(`${shownTitle}gpu-ws-99`);
  });

  it('logs shows escape sequences escaped in the table and in csv; json keeps the value', async () => {
    await cli('run', EVIL_TASK);
    const table = await cli('logs');
    expectNoRawControl(table.stdout);
    expect(table.stdout).toContain(`vms/${shownTitle}gpu-ws-99`);
    expect(table.stdout).toContain(`${shownClear}power-off`);
    expect(table.stdout).toContain(`${shownClear}${shownTitle} disk on fire`);

    const csv = await cli('logs', '--format', 'csv');
    expectNoRawControl(csv.stdout);
    expect(csv.stdout).toContain(`vms/${shownTitle}gpu-ws-99`);

    const json = JSON.parse((await cli('logs', '--format', 'json')).stdout) as Array<{ task: string }>;
    expect(json.map((l) => l.task)).toContain(EVIL_TASK);
  });

  it('status lists next firings of a task name escaped', async () => {
    const r = await cli('status');
    expect(r.code).toBe(0);
    expectNoRawControl(r.stdout);
    expect(r.stdout).toContain(`friday-6pm → ${shownClear}power-off`);
  });

  it('preview names a schedule from the store escaped', async () => {
    await putByHand('Schedule', EVIL_SCHEDULE, { repeat: { every: 1, unit: 'days', at: '06:00' } });
    const r = await cli('preview', EVIL_SCHEDULE, '--count', '1');
    expect(r.code).toBe(0);
    expectNoRawControl(r.stdout);
    expect(r.stdout).toContain(`Schedule/${shownTitle}weekly`);
  });

  it('a plan names an object made by hand escaped', async () => {
    await putByHand('Schedule', EVIL_SCHEDULE, { repeat: { every: 1, unit: 'days', at: '06:00' } });
    const r = await cli('reconcile', '--dry-run', path.join(root, 'manifests'));
    expectNoRawControl(r.stdout);
    expect(r.stdout).toContain(`Schedule/${shownTitle}weekly`);
  });

  describe('validate and error messages', () => {
    function badManifests(): string {
      const dir = path.join(root, 'bad');
      mkdirSync(dir);
      // YAML double quotes decode \e and \a: the unknown key and the member hold real control characters.
      writeFileSync(
        path.join(dir, 'tag.yaml'),
        [
          'apiVersion: taskops/v1',
          'kind: Tag',
          'metadata: { name: lab }',
          'spec:',
          '  category: vms',
          '  members: ["ok\\u009b2J"]',
          '  "\\e]0;pwned\\a": 1',
          '',
        ].join('\n'),
      );
      return dir;
    }

    it('validate quotes keys and values from the manifest escaped, in text and markdown', async () => {
      const dir = badManifests();
      for (const output of ['text', 'markdown']) {
        const r = await cli('validate', dir, '--output', output);
        expect(r.code).toBe(1);
        expectNoRawControl(r.stdout);
        expect(r.stdout).toContain(`unknown field spec.${shownTitle}`);
        expect(r.stdout).toContain(String.raw`ok\u009b2J`);
      }
    });

    it('an error message (invalid manifests on reconcile) is printed escaped', async () => {
      const r = await cli('reconcile', badManifests());
      expect(r.code).toBe(1);
      expectNoRawControl(r.stderr);
      expect(r.stderr).toContain(`unknown field spec.${shownTitle}`);
    });
  });
});
