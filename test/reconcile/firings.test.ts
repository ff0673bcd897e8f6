import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/index.js';
import type { DesiredState, ScheduleSpec } from '../../src/manifest/types.js';
import {
  asLive,
  diff,
  renderJson,
  renderMarkdown,
  renderText,
  withFirings,
} from '../../src/reconcile/index.js';
import { desired, live, manifest, task } from './fixtures.js';

const now = new Date('2027-02-20T12:00:00Z');
const opts = { now, defaultZone: 'UTC' };

async function examples(): Promise<DesiredState> {
  const result = await loadManifests(['examples'], { revision: 'base' });
  if (!result.state) throw new Error('the examples should be valid');
  return result.state;
}

/** The examples with friday-6pm moved to another time of day. */
function withFridayAt(state: DesiredState, at: string): DesiredState {
  return {
    revision: 'head',
    manifests: state.manifests.map((m) =>
      m.kind === 'Schedule' && m.metadata.name === 'friday-6pm'
        ? { ...m, spec: { ...(m.spec as ScheduleSpec), repeat: { ...(m.spec as ScheduleSpec).repeat!, at } } }
        : m,
    ),
  };
}

describe('firings in plans', () => {
  it("shows the examples' friday-6pm moved from 18:00 to 17:30 in New York, before → after, across the March DST change", async () => {
    const base = await examples();
    const head = withFridayAt(base, '17:30');
    const baseLive = asLive(base);
    const plan = withFirings(diff(head, baseLive), head, baseLive, opts);
    const change = plan.changes.find((c) => c.name === 'friday-6pm')!;
    expect(change.firings!.before.map((f) => f.local)).toEqual([
      'Fri 2027-02-26 18:00 EST (-05:00)',
      'Fri 2027-03-05 18:00 EST (-05:00)',
      'Fri 2027-03-12 18:00 EST (-05:00)',
      'Fri 2027-03-19 18:00 EDT (-04:00)',
      'Fri 2027-03-26 18:00 EDT (-04:00)',
    ]);
    expect(change.firings!.after.map((f) => f.at)).toEqual([
      '2027-02-26T22:30:00.000Z',
      '2027-03-05T22:30:00.000Z',
      '2027-03-12T22:30:00.000Z',
      '2027-03-19T21:30:00.000Z',
      '2027-03-26T21:30:00.000Z',
    ]);
    const text = renderText(plan);
    expect(text).toContain(
      [
        '  ~ Schedule/friday-6pm',
        '      ~ spec.repeat.at: "18:00" → "17:30"',
        '      next firings, before → after:',
        '          Fri 2027-02-26 18:00 EST (-05:00)  →  Fri 2027-02-26 17:30 EST (-05:00)',
        '          Fri 2027-03-05 18:00 EST (-05:00)  →  Fri 2027-03-05 17:30 EST (-05:00)',
        '          Fri 2027-03-12 18:00 EST (-05:00)  →  Fri 2027-03-12 17:30 EST (-05:00)',
        '          Fri 2027-03-19 18:00 EDT (-04:00)  →  Fri 2027-03-19 17:30 EDT (-04:00)',
        '          Fri 2027-03-26 18:00 EDT (-04:00)  →  Fri 2027-03-26 17:30 EDT (-04:00)',
      ].join('\n'),
    );
    const md = renderMarkdown(plan);
    expect(md).toContain('**next firings, before → after**');
    expect(md).toContain('Fri 2027-03-19 18:00 EDT (-04:00)  →  Fri 2027-03-19 17:30 EDT (-04:00)');
    const json = JSON.parse(renderJson(plan));
    const jsonChange = json.changes.find((c: { name: string }) => c.name === 'friday-6pm');
    expect(jsonChange.firings.after[3]).toEqual({
      at: '2027-03-19T21:30:00.000Z',
      local: 'Fri 2027-03-19 17:30 EDT (-04:00)',
      schedule: 'friday-6pm',
    });
  });

  it('shows the firings a deleted schedule will no longer have, and a new one its first firings', () => {
    const daily = manifest('Schedule', 'daily', { cron: '0 9 * * *', timezone: 'Europe/Berlin' });
    const gone = diff(desired('r'), live([daily]));
    const planGone = withFirings(gone, desired('r'), live([daily]), opts);
    expect(planGone.changes[0]!.firings!.after).toEqual([]);
    expect(planGone.changes[0]!.firings!.before).toHaveLength(5);
    expect(renderText(planGone)).toContain(
      '      firings that will no longer happen:\n          Sun 2027-02-21 09:00 CET (+01:00)',
    );
    const created = withFirings(diff(desired('r', daily), []), desired('r', daily), [], opts);
    expect(renderText(created)).toContain('      next firings:\n          Sun 2027-02-21 09:00');
  });

  it('shows a task whose schedules change, with the firings of all its schedules together', () => {
    const morning = manifest('Schedule', 'morning', { cron: '0 9 * * *' });
    const evening = manifest('Schedule', 'evening', { cron: '0 18 * * *' });
    const before = live([morning, evening, task('backup', { schedules: ['morning'] })]);
    const after = desired('r', morning, evening, task('backup', { schedules: ['morning', 'evening'] }));
    const plan = withFirings(diff(after, before), after, before, opts);
    const f = plan.changes.find((c) => c.name === 'backup')!.firings!;
    expect(f.before.map((x) => x.at)).toEqual([
      '2027-02-21T09:00:00.000Z',
      '2027-02-22T09:00:00.000Z',
      '2027-02-23T09:00:00.000Z',
      '2027-02-24T09:00:00.000Z',
      '2027-02-25T09:00:00.000Z',
    ]);
    expect(f.after.map((x) => `${x.at} ${x.schedule}`)).toEqual([
      '2027-02-20T18:00:00.000Z evening',
      '2027-02-21T09:00:00.000Z morning',
      '2027-02-21T18:00:00.000Z evening',
      '2027-02-22T09:00:00.000Z morning',
      '2027-02-22T18:00:00.000Z evening',
    ]);
    expect(renderText(plan)).toContain('[evening]');
    const untouched = withFirings(
      diff(desired('r', task('x', { timeoutSeconds: 9 })), live([task('x')])),
      desired('r'),
      [],
      opts,
    );
    expect(untouched.changes[0]!.firings).toBeNull();
  });
});

describe('DST warnings in plans', () => {
  it('warns a daily 02:30 schedule in New York of the day 02:30 does not exist, and when it moves', () => {
    const daily = manifest('Schedule', 'daily-0230', {
      timezone: 'America/New_York',
      repeat: { every: 1, unit: 'days', at: '02:30' },
    });
    const state = desired('r', daily);
    const plan = withFirings(diff(state, []), state, [], {
      now: new Date('2026-12-01T12:00:00Z'),
      defaultZone: 'UTC',
    });
    expect(plan.warnings).toEqual([
      {
        object: 'Schedule/daily-0230',
        message: 'on 2027-03-14 02:30 does not exist in America/New_York; this firing moves to 03:00',
      },
    ]);
    expect(renderText(plan)).toContain(
      'Warnings:\n  Schedule/daily-0230: on 2027-03-14 02:30 does not exist in America/New_York; this firing moves to 03:00\n',
    );
  });

  it('warns a 01:30 schedule of the repeated hour in the fall, and leaves 18:00 alone', () => {
    const at = (time: string) =>
      manifest('Schedule', `at-${time.replace(':', '')}`, {
        timezone: 'America/New_York',
        repeat: { every: 1, unit: 'days', at: time },
      });
    const state = desired('r', at('01:30'), at('18:00'));
    const plan = withFirings(diff(state, []), state, [], {
      now: new Date('2027-04-01T12:00:00Z'),
      defaultZone: 'UTC',
    });
    expect(plan.warnings).toEqual([
      {
        object: 'Schedule/at-0130',
        message:
          'on 2027-11-07 01:30 happens twice in America/New_York; it fires once, at the first (05:30 UTC)',
      },
    ]);
  });
});
