import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../../src/manifest/types.js';
import { firings, firingsBetween } from './helpers.js';

/**
 * DST rules (docs/schedules.md): wall-clock schedules fire at the local time on
 * both sides of a change; a local time in a repeated hour fires once, at its
 * first occurrence; a local time in a skipped gap fires once, at the first
 * instant after the gap. Minutes/hours intervals are elapsed time.
 */

describe('wall-clock schedules across DST changes', () => {
  it('fires Friday 18:00 New York at 23:00Z in winter and 22:00Z in summer (March)', () => {
    expect(firings({ timezone: 'America/New_York', cron: '0 18 * * 5' }, '2026-03-01T00:00Z', 2)).toEqual([
      '2026-03-06T23:00:00.000Z',
      '2026-03-13T22:00:00.000Z',
    ]);
  });

  it('fires Friday 18:00 New York at 22:00Z in summer and 23:00Z in winter (November)', () => {
    const spec: ScheduleSpec = {
      timezone: 'America/New_York',
      repeat: { unit: 'weeks', on: ['friday'], at: '18:00' },
    };
    expect(firings(spec, '2026-10-25T00:00Z', 2)).toEqual([
      '2026-10-30T22:00:00.000Z',
      '2026-11-06T23:00:00.000Z',
    ]);
  });

  it('fires monthly on the 1st at 09:00 Berlin across both changes', () => {
    const spec: ScheduleSpec = {
      timezone: 'Europe/Berlin',
      repeat: { unit: 'months', on: [1], at: '09:00' },
    };
    expect(firings(spec, '2026-03-15T00:00Z', 8)).toEqual([
      '2026-04-01T07:00:00.000Z',
      '2026-05-01T07:00:00.000Z',
      '2026-06-01T07:00:00.000Z',
      '2026-07-01T07:00:00.000Z',
      '2026-08-01T07:00:00.000Z',
      '2026-09-01T07:00:00.000Z',
      '2026-10-01T07:00:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it('fires a once schedule at its local time in summer', () => {
    expect(firings({ timezone: 'Australia/Sydney', once: '2026-07-01T18:00' }, '2026-01-01T00:00Z')).toEqual([
      '2026-07-01T08:00:00.000Z',
    ]);
  });
});

/** [zone, local day of the change, daily 02:30 firing that day, previous day's, next day's] */
type Case = [string, string, string, string, string];

const SPRING_FORWARD: Case[] = [
  // 02:00 -> 03:00: 02:30 does not exist, fires at 03:00 local.
  [
    'America/New_York',
    '2026-03-08',
    '2026-03-08T07:00:00.000Z',
    '2026-03-07T07:30:00.000Z',
    '2026-03-09T06:30:00.000Z',
  ],
  [
    'Europe/Berlin',
    '2026-03-29',
    '2026-03-29T01:00:00.000Z',
    '2026-03-28T01:30:00.000Z',
    '2026-03-30T00:30:00.000Z',
  ],
  [
    'Australia/Sydney',
    '2026-10-04',
    '2026-10-03T16:00:00.000Z',
    '2026-10-02T16:30:00.000Z',
    '2026-10-04T15:30:00.000Z',
  ],
];

const FALL_BACK: Case[] = [
  // 03:00 -> 02:00: 02:30 happens twice, fires at the first (summer-time) one.
  [
    'Europe/Berlin',
    '2026-10-25',
    '2026-10-25T00:30:00.000Z',
    '2026-10-24T00:30:00.000Z',
    '2026-10-26T01:30:00.000Z',
  ],
  [
    'Australia/Sydney',
    '2026-04-05',
    '2026-04-04T15:30:00.000Z',
    '2026-04-03T15:30:00.000Z',
    '2026-04-05T16:30:00.000Z',
  ],
];

function dayAround(day: string): [string, string] {
  const t = new Date(`${day}T00:00:00Z`).getTime();
  return [new Date(t - 2 * 86_400_000).toISOString(), new Date(t + 2 * 86_400_000).toISOString()];
}

describe.each([
  ['repeat', (zone: string): ScheduleSpec => ({ timezone: zone, repeat: { unit: 'days', at: '02:30' } })],
  ['cron', (zone: string): ScheduleSpec => ({ timezone: zone, cron: '30 2 * * *' })],
])('02:30 daily (%s)', (_form, spec) => {
  it.each(SPRING_FORWARD)(
    'fires once at the end of the gap on spring-forward day in %s (%s)',
    (zone, day, at, before, after) => {
      const [from, to] = dayAround(day);
      const list = firingsBetween(spec(zone), from, to);
      expect(list).toContain(at);
      expect(list.filter((t) => t >= before && t <= after)).toEqual([before, at, after]);
    },
  );

  it.each(FALL_BACK)(
    'fires once, at the first occurrence, on fall-back day in %s (%s)',
    (zone, day, at, before, after) => {
      const [from, to] = dayAround(day);
      const list = firingsBetween(spec(zone), from, to);
      expect(list.filter((t) => t >= before && t <= after)).toEqual([before, at, after]);
    },
  );

  it('fires 02:30 on the New York fall-back day once, in standard time (only 01:00-02:00 repeats)', () => {
    expect(firingsBetween(spec('America/New_York'), '2026-10-31T12:00Z', '2026-11-02T12:00Z')).toEqual([
      '2026-11-01T07:30:00.000Z',
      '2026-11-02T07:30:00.000Z',
    ]);
  });

  it('fires 02:30 Kolkata (no DST, +05:30) at 21:00Z every day, the control', () => {
    expect(firings(spec('Asia/Kolkata'), '2026-03-07T00:00Z', 3)).toEqual([
      '2026-03-07T21:00:00.000Z',
      '2026-03-08T21:00:00.000Z',
      '2026-03-09T21:00:00.000Z',
    ]);
  });
});

describe('repeated and skipped local times in New York and Lord Howe (half-hour shift)', () => {
  it('fires 01:30 New York once on fall-back day, at 01:30 EDT', () => {
    expect(
      firingsBetween(
        { timezone: 'America/New_York', repeat: { unit: 'days', at: '01:30' } },
        '2026-10-31T12:00Z',
        '2026-11-02T12:00Z',
      ),
    ).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('fires 02:15 Lord Howe at 02:30 local when clocks jump 02:00 -> 02:30', () => {
    expect(firings({ timezone: 'Australia/Lord_Howe', cron: '15 2 * * *' }, '2026-10-02T12:00Z', 3)).toEqual([
      '2026-10-02T15:45:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-04T15:15:00.000Z',
    ]);
  });

  it('fires 01:45 Lord Howe once when 01:30-02:00 repeats, at the first occurrence', () => {
    expect(
      firings(
        { timezone: 'Australia/Lord_Howe', repeat: { unit: 'days', at: '01:45' } },
        '2026-04-03T12:00Z',
        3,
      ),
    ).toEqual(['2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z']);
  });

  it('fires an every-30-minutes cron once per local time label on fall-back day (none in the second pass)', () => {
    expect(firings({ timezone: 'America/New_York', cron: '*/30 * * * *' }, '2026-11-01T04:50Z', 4)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
  });

  it('fires an every-30-minutes cron once at 03:00 for the whole skipped hour on spring-forward day', () => {
    expect(firings({ timezone: 'America/New_York', cron: '*/30 * * * *' }, '2026-03-08T06:10Z', 3)).toEqual([
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
  });
});

describe('interval schedules are elapsed time', () => {
  const hourly = (zone: string): ScheduleSpec => ({ timezone: zone, repeat: { unit: 'hours' } });

  it.each([
    ['America/New_York', '2026-03-08T05:00Z', '2026-03-09T04:00Z', 23],
    ['America/New_York', '2026-11-01T04:00Z', '2026-11-02T05:00Z', 25],
    ['Europe/Berlin', '2026-03-28T23:00Z', '2026-03-29T22:00Z', 23],
    ['Europe/Berlin', '2026-10-24T22:00Z', '2026-10-25T23:00Z', 25],
    ['Australia/Sydney', '2026-10-03T14:00Z', '2026-10-04T13:00Z', 23],
    ['Australia/Sydney', '2026-04-04T13:00Z', '2026-04-05T14:00Z', 25],
    ['Asia/Kolkata', '2026-03-07T18:30Z', '2026-03-08T18:30Z', 24],
  ])('fires every 1 hour on each elapsed hour of the local day in %s (%s: %i)', (zone, from, to, count) => {
    const list = firingsBetween(hourly(zone), from, to);
    expect(list).toHaveLength(count);
    const gaps = list.slice(1).map((t, i) => new Date(t).getTime() - new Date(list[i]!).getTime());
    expect(new Set(gaps)).toEqual(new Set([3_600_000]));
  });

  it('keeps every 2 hours at equal elapsed gaps, so New York summer firings land on odd local hours', () => {
    const spec: ScheduleSpec = { timezone: 'America/New_York', repeat: { unit: 'hours', every: 2 } };
    expect(firings(spec, '2026-01-10T04:59Z', 1)).toEqual(['2026-01-10T05:00:00.000Z']);
    expect(firings(spec, '2026-07-10T03:59Z', 1)).toEqual(['2026-07-10T05:00:00.000Z']);
  });

  it('puts hourly firings on :30 local in Lord Howe winter (a half-hour DST shift)', () => {
    // The anchor, Monday 2000-01-03 00:00, was in summer time (+11:00); 01:00Z is 11:30 at +10:30.
    expect(firings(hourly('Australia/Lord_Howe'), '2026-07-01T00:00Z', 1)).toEqual([
      '2026-07-01T01:00:00.000Z',
    ]);
  });
});
