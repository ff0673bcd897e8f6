import { describe, expect, it } from 'vitest';
import { ScheduleSpecError, nextFirings } from '../../../src/engine/schedule/index.js';
import type { ScheduleSpec } from '../../../src/manifest/types.js';
import { firings, firingsBetween } from './helpers.js';

describe('nextFirings: once', () => {
  it('fires exactly once at a future local time', () => {
    expect(
      firings({ timezone: 'America/New_York', once: '2026-12-24T17:00:00' }, '2026-01-01T00:00Z'),
    ).toEqual(['2026-12-24T22:00:00.000Z']);
  });

  it('fires nothing when the time is in the past', () => {
    expect(firings({ once: '2026-01-01T00:00:00Z' }, '2026-06-01T00:00Z')).toEqual([]);
  });

  it('fires nothing when asked strictly after its own time', () => {
    expect(firings({ once: '2026-01-01T00:00:00Z' }, '2026-01-01T00:00:00Z')).toEqual([]);
  });
});

describe('nextFirings: cron', () => {
  it('fires Fridays at 18:00 in the schedule zone', () => {
    expect(firings({ cron: '0 18 * * 5', timezone: 'Europe/Berlin' }, '2026-06-01T00:00Z', 2)).toEqual([
      '2026-06-05T16:00:00.000Z',
      '2026-06-12T16:00:00.000Z',
    ]);
  });

  it('uses the engine default zone when the schedule names none', () => {
    expect(firings({ cron: '0 9 * * *' }, '2026-06-01T00:00Z', 1, 'Asia/Kolkata')).toEqual([
      '2026-06-01T03:30:00.000Z',
    ]);
  });

  it('fires on the 13th or on Fridays when both day fields are restricted', () => {
    expect(firings({ cron: '0 0 13 * 5' }, '2026-03-01T00:00Z', 4)).toEqual([
      '2026-03-06T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-03-20T00:00:00.000Z',
      '2026-03-27T00:00:00.000Z',
    ]);
  });

  it('finds Feb 29 across the leap-year gap and gives up on dates that never exist', () => {
    expect(firings({ cron: '0 0 29 2 *' }, '2026-03-01T00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(firings({ cron: '0 0 30 2 *' }, '2026-03-01T00:00Z')).toEqual([]);
  });

  it('searches with no horizon: Feb 29 on a Sunday comes in 2032, then only in 2060', () => {
    expect(firings({ cron: '0 0 29 2 */7' }, '2026-03-01T00:00Z', 3)).toEqual([
      '2032-02-29T00:00:00.000Z',
      '2060-02-29T00:00:00.000Z',
      '2088-02-29T00:00:00.000Z',
    ]);
  });

  it('answers quickly that a cron matching no real day never fires', () => {
    const started = performance.now();
    expect(firings({ cron: '0 0 31 4,6,9,11 *', timezone: 'America/New_York' }, '2026-03-01T00:00Z')).toEqual(
      [],
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('computes 1,440 every-minute firings quickly', () => {
    const started = performance.now();
    const list = firings({ cron: '* * * * *', timezone: 'America/New_York' }, '2026-03-07T12:00Z', 1440);
    expect(list).toHaveLength(1440);
    expect(new Set(list).size).toBe(1440);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('nextFirings: repeat minutes and hours (elapsed time)', () => {
  it('fires every 15 minutes offset by the minute of `at`', () => {
    expect(firings({ repeat: { unit: 'minutes', every: 15, at: '00:05' } }, '2026-06-01T10:00Z', 3)).toEqual([
      '2026-06-01T10:05:00.000Z',
      '2026-06-01T10:20:00.000Z',
      '2026-06-01T10:35:00.000Z',
    ]);
  });

  it('fires every hour at :30 when at is 00:30', () => {
    expect(firings({ repeat: { unit: 'hours', at: '00:30' } }, '2026-06-01T10:00Z', 2)).toEqual([
      '2026-06-01T10:30:00.000Z',
      '2026-06-01T11:30:00.000Z',
    ]);
  });

  it('uses the whole of `at` as the offset, so every 2 hours at 01:30 lands on odd hours', () => {
    expect(firings({ repeat: { unit: 'hours', every: 2, at: '01:30' } }, '2026-06-01T10:00Z', 2)).toEqual([
      '2026-06-01T11:30:00.000Z',
      '2026-06-01T13:30:00.000Z',
    ]);
  });

  it('counts every 90 minutes from startsAt', () => {
    const spec: ScheduleSpec = {
      repeat: { unit: 'minutes', every: 90 },
      startsAt: '2026-06-01T10:17:00Z',
    };
    expect(firings(spec, '2026-01-01T00:00Z', 3)).toEqual([
      '2026-06-01T10:17:00.000Z',
      '2026-06-01T11:47:00.000Z',
      '2026-06-01T13:17:00.000Z',
    ]);
  });
});

describe('nextFirings: repeat days and weeks (wall clock)', () => {
  it('fires every 3 days counted from the startsAt date', () => {
    const spec: ScheduleSpec = {
      repeat: { unit: 'days', every: 3, at: '09:00' },
      startsAt: '2026-06-01T12:00:00Z',
    };
    expect(firings(spec, '2026-01-01T00:00Z', 3)).toEqual([
      '2026-06-04T09:00:00.000Z',
      '2026-06-07T09:00:00.000Z',
      '2026-06-10T09:00:00.000Z',
    ]);
  });

  it('fires every 2 weeks on Monday and Friday, counting weeks from the week of startsAt', () => {
    const spec: ScheduleSpec = {
      repeat: { unit: 'weeks', every: 2, on: ['monday', 'friday'], at: '08:00' },
      startsAt: '2026-03-04T00:00:00Z',
    };
    expect(firings(spec, '2026-01-01T00:00Z', 5)).toEqual([
      '2026-03-06T08:00:00.000Z',
      '2026-03-16T08:00:00.000Z',
      '2026-03-20T08:00:00.000Z',
      '2026-03-30T08:00:00.000Z',
      '2026-04-03T08:00:00.000Z',
    ]);
  });

  it('keeps every-2-weeks on the same weeks whenever it is computed (anchored to Monday 2000-01-03)', () => {
    const spec: ScheduleSpec = {
      timezone: 'Europe/Berlin',
      repeat: { unit: 'weeks', every: 2, on: ['friday'] },
    };
    const fromMarch = firings(spec, '2026-03-01T00:00Z', 10);
    const fromLater = firings(spec, '2026-03-14T00:00Z', 8);
    expect(fromMarch.slice(1, 9)).toEqual(fromLater);
    expect(fromMarch[0]).toBe('2026-03-12T23:00:00.000Z');
  });

  it('defaults weeks to the weekday of startsAt, else Monday', () => {
    expect(
      firings({ repeat: { unit: 'weeks' }, startsAt: '2026-06-03T00:00:00Z' }, '2026-01-01T00:00Z', 1),
    ).toEqual(['2026-06-03T00:00:00.000Z']);
    expect(firings({ repeat: { unit: 'weeks' } }, '2026-06-03T00:00Z', 1)).toEqual([
      '2026-06-08T00:00:00.000Z',
    ]);
  });
});

describe('nextFirings: repeat months', () => {
  it('skips months without a 31st', () => {
    expect(firings({ repeat: { unit: 'months', on: [31] } }, '2026-01-01T00:00Z', 5)).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-07-31T00:00:00.000Z',
      '2026-08-31T00:00:00.000Z',
    ]);
  });

  it('fires on the last day of every month, leap years included', () => {
    expect(
      firings({ repeat: { unit: 'months', on: ['last'], at: '23:00' } }, '2027-12-01T00:00Z', 4),
    ).toEqual([
      '2027-12-31T23:00:00.000Z',
      '2028-01-31T23:00:00.000Z',
      '2028-02-29T23:00:00.000Z',
      '2028-03-31T23:00:00.000Z',
    ]);
  });

  it('fires once when the 30th is also the last day', () => {
    expect(firings({ repeat: { unit: 'months', on: [30, 'last'] } }, '2026-04-01T00:00Z', 3)).toEqual([
      '2026-04-30T00:00:00.000Z',
      '2026-05-30T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
    ]);
  });

  it('fires every 3 months on the day of startsAt, counted from its month', () => {
    const spec: ScheduleSpec = {
      repeat: { unit: 'months', every: 3 },
      startsAt: '2026-02-15T00:00:00Z',
    };
    expect(firings(spec, '2026-01-01T00:00Z', 3)).toEqual([
      '2026-02-15T00:00:00.000Z',
      '2026-05-15T00:00:00.000Z',
      '2026-08-15T00:00:00.000Z',
    ]);
  });

  it('gives up on a month rule that never meets a real day', () => {
    const spec: ScheduleSpec = {
      repeat: { unit: 'months', every: 12, on: [30] },
      startsAt: '2026-02-01T00:00:00Z',
    };
    expect(firings(spec, '2026-01-01T00:00Z')).toEqual([]);
  });
});

describe('nextFirings: bounds and switches', () => {
  const daily = { cron: '0 9 * * *' };

  it('fires nothing before startsAt, and fires at startsAt itself', () => {
    expect(firings({ ...daily, startsAt: '2026-06-10T09:00:00Z' }, '2026-06-01T00:00Z', 2)).toEqual([
      '2026-06-10T09:00:00.000Z',
      '2026-06-11T09:00:00.000Z',
    ]);
  });

  it('fires nothing after endsAt, and fires at endsAt itself', () => {
    expect(firings({ ...daily, endsAt: '2026-06-03T09:00:00Z' }, '2026-06-01T00:00Z')).toEqual([
      '2026-06-01T09:00:00.000Z',
      '2026-06-02T09:00:00.000Z',
      '2026-06-03T09:00:00.000Z',
    ]);
  });

  it('fires nothing when disabled', () => {
    expect(firings({ ...daily, enabled: false }, '2026-06-01T00:00Z')).toEqual([]);
  });

  it('returns at most count firings, strictly after `after`, ascending', () => {
    expect(firings(daily, '2026-06-01T09:00:00Z', 2)).toEqual([
      '2026-06-02T09:00:00.000Z',
      '2026-06-03T09:00:00.000Z',
    ]);
    expect(firings(daily, '2026-06-01T00:00Z', 0)).toEqual([]);
  });

  it('counts firings in a window', () => {
    expect(firingsBetween(daily, '2026-06-01T00:00Z', '2026-07-01T00:00Z')).toHaveLength(30);
  });

  it('throws a ScheduleSpecError naming what is wrong', () => {
    const plan = (spec: object) => () =>
      nextFirings(spec, { after: new Date('2026-01-01T00:00Z'), count: 1, defaultZone: 'UTC' });
    expect(plan({ cron: '61 * * * *' })).toThrow(ScheduleSpecError);
    expect(plan({ cron: '61 * * * *' })).toThrow('cron minute field "61" is out of range 0-59');
    expect(plan({ cron: '0 * * * *', timezone: 'Mars/Olympus' })).toThrow(
      'timezone "Mars/Olympus" is not a known IANA time zone (like Europe/Berlin or UTC)',
    );
    expect(plan({ once: '2026-02-30T10:00:00' })).toThrow('once: "2026-02-30T10:00:00" is not a real date');
    expect(plan({ repeat: { unit: 'weeks', on: [3] } })).toThrow('repeat.on for weeks takes weekdays');
    expect(plan({ repeat: { unit: 'months', on: ['friday'] } })).toThrow(
      'repeat.on for months takes days of the month',
    );
    expect(plan({ repeat: { unit: 'weeks', on: [] } })).toThrow('repeat.on must not be empty');
    expect(plan({ cron: '0 * * * *', once: '2026-02-03T10:00:00' })).toThrow(
      'exactly one of cron, repeat or once',
    );
  });
});
