import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadManifests } from '../../src/manifest/index.js';

const doc = (kind: string, name: string, spec: string) =>
  `apiVersion: taskops/v1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

async function load(files: Record<string, string>, now = new Date('2026-12-01T12:00:00Z')) {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-warnings-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const result = await loadManifests([dir], { revision: 't', now });
  const rel = (lines: string[]) => lines.map((l) => l.slice(dir.length + 1));
  return {
    result,
    problems: rel(result.problems.map(formatProblem)),
    warnings: rel(result.warnings.map(formatProblem)),
  };
}

const useAll = (schedules: string[]) =>
  doc(
    'Task',
    'mail',
    `{objectType: email, action: send, params: {to: [a@example.com], subject: s, body: b}, schedules: [${schedules.join(', ')}]}`,
  );

describe('validation warnings', () => {
  it('warns of a once and an endsAt in the past, and leaves future ones alone', async () => {
    const { result, warnings } = await load({
      'a.yaml': [
        doc('Schedule', 'gone', '{once: "2025-12-24T17:00:00"}'),
        doc('Schedule', 'ended', '{cron: "0 9 * * *", endsAt: "2026-06-01T00:00:00Z"}'),
        doc('Schedule', 'soon', '{once: "2027-01-01T09:00:00", timezone: Europe/Berlin}'),
      ].join('---\n'),
      'b.yaml': useAll(['gone', 'ended', 'soon']),
    });
    expect(result.problems).toEqual([]);
    expect(result.state).not.toBeNull();
    expect(warnings).toEqual([
      'a.yaml:4:14: Schedule/gone: once 2025-12-24T17:00:00 is in the past (now 2026-12-01T12:00:00.000Z): it will never fire',
      'a.yaml:9:35: Schedule/ended: endsAt 2026-06-01T00:00:00Z is in the past (now 2026-12-01T12:00:00.000Z): the schedule has ended and will not fire again',
    ]);
  });

  it('warns of a cron that can never fire, and not of one that fires every 28 years', async () => {
    const { warnings } = await load({
      'a.yaml': [
        doc('Schedule', 'never', '{cron: "0 0 30 2 *"}'),
        doc('Schedule', 'rare', '{cron: "0 0 29 2 */7"}'),
      ].join('---\n'),
      'b.yaml': useAll(['never', 'rare']),
    });
    expect(warnings).toEqual([
      'a.yaml:4:14: Schedule/never: cron "0 0 30 2 *" matches no day of any year, so it never fires: check the day and month fields',
    ]);
  });

  it('warns of a Schedule, Tag and Webhook that nothing uses', async () => {
    const { warnings } = await load({
      'a.yaml': [
        doc('Schedule', 'lonely', '{cron: "0 9 * * *"}'),
        doc('Tag', 'spare', '{category: vms, members: [vm-1]}'),
        doc('Webhook', 'idle', '{url: "https://hooks.example.com/x"}'),
      ].join('---\n'),
    });
    expect(warnings).toEqual([
      'a.yaml:3:18: Schedule/lonely: unused: no Task lists it in spec.schedules, so it triggers nothing',
      'a.yaml:8:18: Tag/spare: unused: no Task or EventTrigger targets it',
      'a.yaml:13:18: Webhook/idle: unused: no webhook Task targets it, so nothing is ever sent to it',
    ]);
  });

  it('refuses a zone name in the wrong case, naming the IANA spelling', async () => {
    const { problems } = await load({
      'a.yaml': doc('Schedule', 'ny', '{cron: "0 9 * * *", timezone: america/new_york}'),
      'b.yaml': useAll(['ny']),
    });
    expect(problems).toEqual([
      'a.yaml:4:37: Schedule/ny: time zone "america/new_york" is not spelled as IANA does: write "America/New_York"',
    ]);
  });
});
