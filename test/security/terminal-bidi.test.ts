import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/store/types.js';
import { terminalLab, type TerminalLab } from '../helpers/terminal-lab.js';

/*
 * Bidirectional-text controls ("Trojan Source", CVE-2021-42574): printed raw, they reorder what the reader
 * sees without any escape sequence. A member named `prod-db‮10-sw-upg` shows as "prod-dbgpu-ws-01" in a
 * terminal, so an operator reads one name where the engine acts on another.
 */
const RLO = '\u202e'; // RIGHT-TO-LEFT OVERRIDE
const PDF = '\u202c'; // POP DIRECTIONAL FORMATTING
const RLI = '\u2067'; // RIGHT-TO-LEFT ISOLATE
const PDI = '\u2069'; // POP DIRECTIONAL ISOLATE
const RLM = '\u200f'; // RIGHT-TO-LEFT MARK
const ALM = '\u061c'; // ARABIC LETTER MARK
const EVIL_MEMBER = `prod-db${RLO}10-sw-upg${PDF}`;
const EVIL_TASK = `${RLI}power-off${PDI}${RLM}`;
const EVIL_SCHEDULE = `weekly${ALM}`;
const shownMember = String.raw`prod-db\u202e10-sw-upg\u202c`;
const shownTask = String.raw`\u2067power-off\u2069\u200f`;
const shownSchedule = String.raw`weekly\u061c`;

/** Every bidi control: embeddings and overrides, isolates, and the marks. */
const RAW_BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

function expectNoRawBidi(text: string): void {
  expect(RAW_BIDI.exec(text)?.[0], `raw bidi control in:\n${JSON.stringify(text)}`).toBeUndefined();
}

let root: string;
let cli: TerminalLab['cli'];
let putByHand: TerminalLab['putByHand'];

beforeEach(async () => {
  ({ root, cli, putByHand } = await terminalLab({
    prefix: 'taskops-sec-bidi-',
    failingScript: `process.stderr.write('disk ${RLO}erif no${PDF}\\n'); process.exit(1);`,
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

describe('bidirectional-text controls never reach the terminal raw', () => {
  it('run prints task, target and error with their bidi controls escaped (json keeps the exact values)', async () => {
    const r = await cli('run', EVIL_TASK);
    expect(r.code).toBe(1);
    expectNoRawBidi(r.stdout);
    expect(r.stdout).toContain(shownTask);
    expect(r.stdout).toContain(shownMember);
    expect(r.stdout).toContain(String.raw`disk \u202eerif no\u202c`);
    const runs = JSON.parse((await cli('run', EVIL_TASK, '--output', 'json')).stdout) as RunRecord[];
    expect(runs.map((x) => x.target.name)).toContain(EVIL_MEMBER);
  });

  it('logs shows them escaped in the table and in csv', async () => {
    await cli('run', EVIL_TASK);
    for (const format of ['table', 'csv']) {
      const r = await cli('logs', '--format', format);
      expectNoRawBidi(r.stdout);
      expect(r.stdout).toContain(`vms/${shownMember}`);
    }
  });

  it('get, describe and status show them escaped', async () => {
    const get = await cli('get', 'tasks');
    expectNoRawBidi(get.stdout);
    expect(get.stdout).toContain(shownTask);
    const describe = await cli('describe', 'tag/lab');
    expectNoRawBidi(describe.stdout);
    expect(describe.stdout).toContain(`targeted by Task/${shownTask}`);
    const status = await cli('status');
    expectNoRawBidi(status.stdout);
    expect(status.stdout).toContain(`friday-6pm → ${shownTask}`);
  });

  it('a plan names an object made by hand with them escaped, in text and markdown', async () => {
    await putByHand('Schedule', EVIL_SCHEDULE, { repeat: { every: 1, unit: 'days', at: '06:00' } });
    for (const output of ['text', 'markdown']) {
      const r = await cli('reconcile', '--dry-run', path.join(root, 'manifests'), '--output', output);
      expectNoRawBidi(r.stdout);
      expect(r.stdout).toContain(shownSchedule);
    }
  });

  it('validate quotes a manifest value holding them escaped, and an error message too', async () => {
    const dir = path.join(root, 'bad');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'tag.yaml'),
      [
        'apiVersion: taskops/v1',
        'kind: Tag',
        'metadata: { name: lab }',
        'spec:',
        '  category: vms',
        `  "x${RLO}y": 1`,
        '',
      ].join('\n'),
    );
    const r = await cli('validate', dir);
    expect(r.code).toBe(1);
    expectNoRawBidi(r.stdout);
    expect(r.stdout).toContain(String.raw`x\u202ey`);
    const reconcile = await cli('reconcile', dir);
    expectNoRawBidi(reconcile.stderr);
    expect(reconcile.stderr).toContain(String.raw`x\u202ey`);
  });
});
