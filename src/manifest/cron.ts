/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), parsed
 * into explicit value lists, and the search for its next matching day. Firing
 * times are computed in src/manifest/schedule, with our own DST rules.
 */

import { civilToWall, daysInMonth } from './time.js';

export interface CronFields {
  /** Sorted, unique. 0-59. */
  minutes: number[];
  /** 0-23. */
  hours: number[];
  /** 1-31. */
  daysOfMonth: number[];
  /** 1-12. */
  months: number[];
  /** 0-6, 0 = Sunday (7 is folded into 0). */
  daysOfWeek: number[];
  /**
   * Vixie cron rule: when BOTH day fields are restricted (do not start with `*`),
   * a day matches if EITHER matches; otherwise both must match.
   */
  daysOfMonthRestricted: boolean;
  daysOfWeekRestricted: boolean;
}

export type ParsedCron = { ok: true; cron: CronFields } | { ok: false; message: string };

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The first name's value (jan = 1, sun = 0). */
  nameBase?: number;
}

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
] as const;
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAY_NAMES, nameBase: 0 },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

class CronFieldError extends Error {}

function valueOf(token: string, rule: FieldRule, field: string): number {
  const prefix = `cron ${rule.name} field "${field}"`;
  const subject = token === field ? prefix : `${prefix}: "${token}"`;
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < rule.min || n > rule.max)
      throw new CronFieldError(`${subject} is out of range ${rule.min}-${rule.max}`);
    return n;
  }
  const index = rule.names?.indexOf(token.toLowerCase()) ?? -1;
  if (index >= 0) return index + (rule.nameBase ?? 0);
  const expected = rule.names
    ? `a number ${rule.min}-${rule.max} or a name ${rule.names[0]}-${rule.names[rule.names.length - 1]}`
    : `a number ${rule.min}-${rule.max}`;
  throw new CronFieldError(
    `${subject} is not valid: expected ${expected}, *, a range a-b, a list a,b or a step /n`,
  );
}

function parseField(field: string, rule: FieldRule): number[] {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    if (part === '') throw new CronFieldError(`cron ${rule.name} field "${field}" has an empty list item`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') {
      throw new CronFieldError(
        `cron ${rule.name} field "${field}" is not valid: "${part}" is not a range/step`,
      );
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new CronFieldError(
          `cron ${rule.name} field "${field}" has step "${stepText}": steps must be 1 or more`,
        );
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*') {
      start = rule.min;
      end = rule.max;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) {
        throw new CronFieldError(
          `cron ${rule.name} field "${field}" is not valid: "${range}" is not a range a-b`,
        );
      }
      start = valueOf(bounds[0]!, rule, field);
      // "5/15" means 5-max/15, as in Vixie-derived crons.
      end =
        bounds.length === 2 ? valueOf(bounds[1]!, rule, field) : stepText !== undefined ? rule.max : start;
      if (start > end) {
        throw new CronFieldError(
          `cron ${rule.name} field "${field}" has a reversed range "${range}": write the smaller value first`,
        );
      }
    }
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Parses a 5-field cron expression (or @daily, @hourly, ... macros). Messages are for operators. */
export function parseCron(expr: string): ParsedCron {
  const trimmed = expr.trim();
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  if (expanded.startsWith('@')) {
    return {
      ok: false,
      message: `cron macro "${trimmed}" is unknown: use ${Object.keys(MACROS).join(', ')} or 5 fields`,
    };
  }
  const fields = expanded === '' ? [] : expanded.split(/\s+/);
  if (fields.length !== 5) {
    return {
      ok: false,
      message: `cron must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    };
  }
  try {
    const [minutes, hours, daysOfMonth, months, weekdays] = fields.map((f, i) => parseField(f, FIELDS[i]!));
    const daysOfWeek = [...new Set(weekdays!.map((d) => d % 7))].sort((a, b) => a - b);
    return {
      ok: true,
      cron: {
        minutes: minutes!,
        hours: hours!,
        daysOfMonth: daysOfMonth!,
        months: months!,
        daysOfWeek,
        daysOfMonthRestricted: !fields[2]!.startsWith('*'),
        daysOfWeekRestricted: !fields[4]!.startsWith('*'),
      },
    };
  } catch (err) {
    if (err instanceof CronFieldError) return { ok: false, message: err.message };
    throw err;
  }
}

/** Whether a calendar day matches the cron's month and day fields. */
export function cronMatchesDay(cron: CronFields, month: number, day: number, weekday: number): boolean {
  if (!cron.months.includes(month)) return false;
  const dom = cron.daysOfMonth.includes(day);
  const dow = cron.daysOfWeek.includes(weekday);
  return cron.daysOfMonthRestricted && cron.daysOfWeekRestricted ? dom || dow : dom && dow;
}

/** The Gregorian calendar repeats its dates and weekdays every 400 years (146,097 days, 20,871 weeks). */
export const GREGORIAN_CYCLE_DAYS = 146_097;

const DAY_MS = 86_400_000;
/**
 * The first day (days since 1970-01-01) on or after `fromDay` that matches the cron's day fields, or
 * null when no day ever does (`0 0 30 2 *`). There is no horizon: since the calendar repeats every 400
 * years, one full cycle with no match means none will ever come. Only the cron's months and, when the
 * weekday is unrestricted, its days of the month are visited, so a match 28 years away costs little.
 */
export function nextCronDay(cron: CronFields, fromDay: number): number | null {
  const start = new Date(fromDay * DAY_MS);
  const startYear = start.getUTCFullYear();
  const startMonth = start.getUTCMonth() + 1;
  const lastDay = fromDay + GREGORIAN_CYCLE_DAYS;
  // With the weekday unrestricted only the listed days of the month can match.
  const candidates = cron.daysOfWeekRestricted ? null : cron.daysOfMonth;
  for (let year = startYear; ; year++) {
    for (const month of cron.months) {
      if (year === startYear && month < startMonth) continue;
      const length = daysInMonth(year, month);
      const first = Math.round(civilToWall(year, month, 1) / DAY_MS);
      if (first > lastDay) return null;
      for (let i = 0, n = candidates ? candidates.length : length; i < n; i++) {
        const dayOfMonth = candidates ? candidates[i]! : i + 1;
        if (dayOfMonth > length) break;
        const day = first + dayOfMonth - 1;
        if (day < fromDay) continue;
        // 1970-01-01 (day 0) was a Thursday.
        const weekday = (((day + 4) % 7) + 7) % 7;
        if (cronMatchesDay(cron, month, dayOfMonth, weekday)) return day;
      }
    }
  }
}

/** Whether a cron matches no calendar day at all, ever (`0 0 30 2 *`, `0 0 31 4,6,9,11 *`). */
export function cronNeverFires(cron: CronFields): boolean {
  return nextCronDay(cron, 0) === null;
}
