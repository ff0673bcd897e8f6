/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), parsed
 * into explicit value lists. Firing times are computed elsewhere
 * (src/engine/schedule), with our own DST rules.
 */

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
