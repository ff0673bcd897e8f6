import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/index.js';
import { specTextOf } from '../../src/manifest/stored-form.js';
import { planWrites } from '../../src/reconcile/apply.js';
import { diff } from '../../src/reconcile/diff.js';
import { openStore } from '../../src/store/index.js';

const schedule = (name: string, spec: string) =>
  `apiVersion: taskops/v1\nkind: Schedule\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** Whether a manifest's spec is still the text the check thread made (see stored-form.ts). */
const unread = (o: object) => Object.getOwnPropertyDescriptor(o, 'spec')?.get !== undefined;

describe("serve's first sync", () => {
  it('checks, diffs and stores the schedules without reading their specs back into objects', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-unread-'));
    writeFileSync(
      path.join(dir, 'schedules.yaml'),
      [
        schedule('friday', '  timezone: Europe/Berlin\n  cron: "0 18 * * 5"\n'),
        schedule('never', '  cron: "0 0 30 2 *"\n'),
        schedule('gone', '  once: 2020-01-01T00:00\n'),
      ].join('---\n'),
    );
    writeFileSync(
      path.join(dir, 'task.yaml'),
      'apiVersion: taskops/v1\nkind: Task\nmetadata:\n  name: off\nspec:\n  objectType: vms\n  action: power-off\n' +
        '  target:\n    name: gpu-1\n  schedules: [friday, never, gone]\n',
    );
    const result = await loadManifests([dir], { revision: 'r1', now: new Date('2026-12-01T00:00:00Z') });
    expect(result.problems).toEqual([]);
    // The schedules' own warnings were made where they were read, and still come with the set.
    expect(result.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^cron "0 0 30 2 \*" matches no day/),
      expect.stringMatching(/^once 2020-01-01T00:00 is in the past/),
    ]);
    const state = result.state!;
    const schedules = state.manifests.filter((m) => m.kind === 'Schedule');
    const plan = diff(state, [], { fields: false });
    const writes = planWrites(plan);
    expect(schedules.every(unread)).toBe(true);

    const store = await openStore(mkdtempSync(path.join(tmpdir(), 'taskops-unread-data-')));
    try {
      await store.applyWrites(writes, 'r1', new Date('2026-12-01T00:00:00Z'));
      expect(schedules.every(unread)).toBe(true);
      for (const m of schedules) {
        const live = await store.getObject('Schedule', m.metadata.name);
        expect(JSON.stringify(live?.spec)).toBe(specTextOf(m));
        expect(live?.spec).toEqual(m.spec);
      }
    } finally {
      await store.close();
    }
  });
});
