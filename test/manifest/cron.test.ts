import { describe, expect, it } from 'vitest';
import {
  cronMatchesDay,
  cronNeverFires,
  nextCronDay,
  parseCron,
  type CronFields,
} from '../../src/manifest/cron.js';

function fields(expr: string): CronFields {
  const parsed = parseCron(expr);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.cron;
}

function error(expr: string): string {
  const parsed = parseCron(expr);
  if (parsed.ok) throw new Error(`expected "${expr}" to be refused`);
  return parsed.message;
}

describe('parseCron', () => {
  it('reads Fridays at 18:00', () => {
    const cron = fields('0 18 * * 5');
    expect(cron.minutes).toEqual([0]);
    expect(cron.hours).toEqual([18]);
    expect(cron.daysOfWeek).toEqual([5]);
    expect(cron.daysOfMonth).toHaveLength(31);
    expect(cron.months).toHaveLength(12);
  });

  it('expands ranges, lists and steps', () => {
    expect(fields('*/15 * * * *').minutes).toEqual([0, 15, 30, 45]);
    expect(fields('0 9-17/4 * * *').hours).toEqual([9, 13, 17]);
    expect(fields('5,10,1-3 * * * *').minutes).toEqual([1, 2, 3, 5, 10]);
    expect(fields('50/5 * * * *').minutes).toEqual([50, 55]);
  });

  it('accepts month and weekday names in any case, also in ranges', () => {
    const cron = fields('0 0 * JAN,jul mon-FRI');
    expect(cron.months).toEqual([1, 7]);
    expect(cron.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
  });

  it('treats 7 as Sunday', () => {
    expect(fields('0 0 * * 7').daysOfWeek).toEqual([0]);
    expect(fields('0 0 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
  });

  it('tolerates surrounding and repeated whitespace', () => {
    expect(fields('  0   18 * *\t5 ').hours).toEqual([18]);
  });

  it('expands the @daily-style macros', () => {
    expect(fields('@daily')).toEqual(fields('0 0 * * *'));
    expect(fields('@hourly')).toEqual(fields('0 * * * *'));
    expect(fields('@weekly')).toEqual(fields('0 0 * * 0'));
    expect(fields('@monthly')).toEqual(fields('0 0 1 * *'));
    expect(fields('@yearly')).toEqual(fields('0 0 1 1 *'));
  });

  it('matches a day when EITHER restricted day field matches (Vixie cron)', () => {
    const cron = fields('0 0 13 * 5');
    expect(cronMatchesDay(cron, 3, 13, 2)).toBe(true);
    expect(cronMatchesDay(cron, 3, 6, 5)).toBe(true);
    expect(cronMatchesDay(cron, 3, 7, 6)).toBe(false);
  });

  it('requires BOTH day fields when one starts with * (including */n)', () => {
    const cron = fields('0 0 */2 * 1');
    expect(cron.daysOfMonthRestricted).toBe(false);
    expect(cronMatchesDay(cron, 3, 3, 1)).toBe(true);
    expect(cronMatchesDay(cron, 3, 2, 1)).toBe(false);
    expect(cronMatchesDay(cron, 3, 3, 2)).toBe(false);
  });

  it('respects the month field', () => {
    expect(cronMatchesDay(fields('0 0 1 jan *'), 2, 1, 0)).toBe(false);
  });
});

describe('parseCron errors', () => {
  it('refuses the wrong number of fields, naming the expected order', () => {
    expect(error('0 0 18 * * 5')).toBe(
      'cron must have 5 fields (minute hour day-of-month month day-of-week), got 6',
    );
    expect(error('')).toBe('cron must have 5 fields (minute hour day-of-month month day-of-week), got 0');
  });

  it('refuses an out-of-range minute', () => {
    expect(error('61 * * * *')).toBe('cron minute field "61" is out of range 0-59');
  });

  it('points at the out-of-range item of a list or range', () => {
    expect(error('0 1,24 * * *')).toBe('cron hour field "1,24": "24" is out of range 0-23');
    expect(error('0 0 0 * *')).toBe('cron day-of-month field "0" is out of range 1-31');
    expect(error('0 0 * 13 *')).toBe('cron month field "13" is out of range 1-12');
    expect(error('0 0 * * 8')).toBe('cron day-of-week field "8" is out of range 0-7');
  });

  it('refuses unknown names and non-standard syntax', () => {
    expect(error('0 0 * * fry')).toBe(
      'cron day-of-week field "fry" is not valid: expected a number 0-7 or a name sun-sat, *, a range a-b, a list a,b or a step /n',
    );
    expect(error('0 0 L * *')).toMatch(/^cron day-of-month field "L" is not valid/);
    expect(error('0 0 ? * *')).toMatch(/^cron day-of-month field "\?" is not valid/);
  });

  it('refuses reversed ranges, zero steps and empty list items', () => {
    expect(error('0 17-9 * * *')).toBe(
      'cron hour field "17-9" has a reversed range "17-9": write the smaller value first',
    );
    expect(error('*/0 * * * *')).toBe('cron minute field "*/0" has step "0": steps must be 1 or more');
    expect(error('1,,2 * * * *')).toBe('cron minute field "1,,2" has an empty list item');
  });

  it('refuses unknown macros', () => {
    expect(error('@fortnightly')).toMatch(/^cron macro "@fortnightly" is unknown/);
  });
});

describe('nextCronDay', () => {
  const day = (iso: string) => Date.parse(iso) / 86_400_000;

  it('finds a Sunday Feb 29 28 years after the last, with no horizon', () => {
    expect(nextCronDay(fields('0 0 29 2 */7'), day('2032-03-01'))).toBe(day('2060-02-29'));
  });

  it('counts the start day itself', () => {
    expect(nextCronDay(fields('0 0 * * 5'), day('2026-11-27'))).toBe(day('2026-11-27'));
  });

  it('knows the crons that never fire, and those that rarely do', () => {
    expect(cronNeverFires(fields('0 0 30 2 *'))).toBe(true);
    expect(cronNeverFires(fields('0 0 31 4,6,9,11 *'))).toBe(true);
    expect(cronNeverFires(fields('0 0 29 2 */7'))).toBe(false);
    expect(cronNeverFires(fields('0 0 30 2 1'))).toBe(false);
  });
});
