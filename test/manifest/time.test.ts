import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  isValidTimeZone,
  parseScheduleDateTime,
  wallToInstant,
  zoneOffsetMinutes,
  civilToWall,
} from '../../src/manifest/time.js';

function instant(text: string, zone: string): string {
  const parsed = parseScheduleDateTime(text, zone);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.instant.toISOString();
}

function error(text: string, zone = 'UTC'): string {
  const parsed = parseScheduleDateTime(text, zone);
  if (parsed.ok) throw new Error(`expected "${text}" to be refused`);
  return parsed.message;
}

describe('isValidTimeZone', () => {
  it('accepts IANA names and UTC', () => {
    for (const zone of ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
      expect(isValidTimeZone(zone)).toBe(true);
    }
  });

  it('refuses names that are not zones', () => {
    for (const zone of ['Mars/Olympus', 'New York', '', 'Europe/Berlinn', '+05:00']) {
      expect(isValidTimeZone(zone)).toBe(false);
    }
  });
});

describe('parseScheduleDateTime', () => {
  it('reads a local time in the schedule zone', () => {
    expect(instant('2026-12-24T17:00:00', 'America/New_York')).toBe('2026-12-24T22:00:00.000Z');
    expect(instant('2026-07-01T09:00', 'Europe/Berlin')).toBe('2026-07-01T07:00:00.000Z');
    expect(instant('2026-07-01T09:00', 'Asia/Kolkata')).toBe('2026-07-01T03:30:00.000Z');
  });

  it('takes Z and explicit offsets as exact instants, whatever the zone', () => {
    expect(instant('2026-12-24T17:00:00Z', 'Asia/Kolkata')).toBe('2026-12-24T17:00:00.000Z');
    expect(instant('2026-12-24T17:00:00-05:00', 'Europe/Berlin')).toBe('2026-12-24T22:00:00.000Z');
    expect(instant('2026-12-24T17:00:00.250+05:30', 'UTC')).toBe('2026-12-24T11:30:00.250Z');
  });

  it('resolves a local time in the fall-back hour to its first occurrence', () => {
    expect(instant('2026-11-01T01:30:00', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('resolves a local time in the spring-forward gap to the first instant after it', () => {
    expect(instant('2026-03-08T02:30:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
  });

  it('refuses dates that do not exist', () => {
    expect(error('2026-02-30T10:00:00')).toBe('"2026-02-30T10:00:00" is not a real date');
    expect(error('2026-02-29T10:00')).toBe('"2026-02-29T10:00" is not a real date');
    expect(error('2026-13-01T10:00')).toBe('"2026-13-01T10:00" is not a real date');
    expect(instant('2028-02-29T10:00Z', 'UTC')).toBe('2028-02-29T10:00:00.000Z');
  });

  it('refuses times of day that do not exist', () => {
    expect(error('2026-02-10T24:00')).toBe(
      '"2026-02-10T24:00" is not a real time of day (00:00:00 to 23:59:59)',
    );
  });

  it('refuses text that is not the date-time format', () => {
    expect(error('next friday')).toBe(
      '"next friday" is not a date-time: use YYYY-MM-DDTHH:MM[:SS], optionally ending in Z or an offset like -05:00',
    );
    expect(error('2026-12-24 17:00')).toMatch(/is not a date-time/);
  });

  it('refuses a local time in an unknown zone', () => {
    expect(error('2026-12-24T17:00', 'Mars/Olympus')).toBe(
      '"Mars/Olympus" is not a known IANA time zone (like Europe/Berlin or UTC)',
    );
  });
});

describe('zone offsets', () => {
  it('knows half-hour and DST offsets', () => {
    expect(zoneOffsetMinutes('Asia/Kolkata', Date.UTC(2026, 0, 1))).toBe(330);
    expect(zoneOffsetMinutes('America/New_York', Date.UTC(2026, 0, 1))).toBe(-300);
    expect(zoneOffsetMinutes('America/New_York', Date.UTC(2026, 6, 1))).toBe(-240);
    expect(zoneOffsetMinutes('Australia/Lord_Howe', Date.UTC(2026, 0, 1))).toBe(660);
    expect(zoneOffsetMinutes('Australia/Lord_Howe', Date.UTC(2026, 6, 1))).toBe(630);
  });

  it('agrees with luxon every 15 minutes through 2026 and at every minute around each change', () => {
    for (const zone of [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
    ]) {
      const mismatches: string[] = [];
      const check = (t: number) => {
        const expected = DateTime.fromMillis(t, { zone }).offset;
        if (zoneOffsetMinutes(zone, t) !== expected) mismatches.push(`${zone} ${new Date(t).toISOString()}`);
      };
      const start = Date.UTC(2026, 0, 1);
      let previous = DateTime.fromMillis(start, { zone }).offset;
      for (let t = start; t < Date.UTC(2027, 0, 1); t += 15 * 60_000) {
        check(t);
        const offset = DateTime.fromMillis(t, { zone }).offset;
        if (offset !== previous) for (let m = t - 120 * 60_000; m <= t + 60 * 60_000; m += 60_000) check(m);
        previous = offset;
      }
      expect(mismatches).toEqual([]);
    }
  });

  it('never resolves a later local time to an earlier instant across a change', () => {
    for (const zone of ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Australia/Lord_Howe']) {
      for (const [y, m, d] of [
        [2026, 3, 8],
        [2026, 3, 29],
        [2026, 4, 5],
        [2026, 10, 4],
        [2026, 10, 25],
        [2026, 11, 1],
      ] as const) {
        let previous = -Infinity;
        for (let minute = 0; minute < 24 * 60; minute += 5) {
          const t = wallToInstant(civilToWall(y, m, d, 0, minute), zone);
          expect(t).toBeGreaterThanOrEqual(previous);
          previous = t;
        }
      }
    }
  });
});
