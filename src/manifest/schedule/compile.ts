import { parseCron, type CronFields } from '../cron.js';
import { civilToWall, isValidTimeZone, parseScheduleDateTime, wallToInstant } from '../time.js';
import type { ScheduleSpec, Weekday } from '../types.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, instantToWall, wallFields } from '../time.js';

/** A schedule spec the engine cannot plan (the validator should have caught it). */
export class ScheduleSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleSpecError';
  }
}

/** 2000-01-03 was a Monday: the anchor of `every` counting when no startsAt is set. */
export const EPOCH_ANCHOR = { year: 2000, month: 1, day: 3 } as const;

export type Form =
  | { kind: 'once'; at: number }
  | { kind: 'cron'; cron: CronFields }
  /** Elapsed time: phase + k * periodMs. */
  | { kind: 'interval'; phase: number; periodMs: number }
  /** Wall clock: every `every` days from anchorDay (days since 1970-01-01, local). */
  | { kind: 'days'; every: number; anchorDay: number; atMinutes: number }
  /** weekdays: 0 = Sunday ... 6 = Saturday; weeks start on Monday. */
  | { kind: 'weeks'; every: number; anchorMonday: number; weekdays: number[]; atMinutes: number }
  /** anchorMonth: year * 12 + (month - 1); days 1-31, 0 = last. */
  | { kind: 'months'; every: number; anchorMonth: number; days: number[]; atMinutes: number };

export interface CompiledSchedule {
  zone: string;
  /** Inclusive bounds, epoch ms. */
  startsAt: number | null;
  endsAt: number | null;
  enabled: boolean;
  form: Form;
}

const WEEKDAYS: readonly Weekday[] = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
];

const instant = (text: string, zone: string, field: string): number => {
  const parsed = parseScheduleDateTime(text, zone);
  if (!parsed.ok) throw new ScheduleSpecError(`${field}: ${parsed.message}`);
  return parsed.instant.getTime();
};

function parseAt(at: string | undefined): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at ?? '00:00');
  if (!m) throw new ScheduleSpecError(`repeat.at "${at}" is not a time of day HH:MM (00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function compileRepeat(
  repeat: NonNullable<ScheduleSpec['repeat']>,
  zone: string,
  startsAt: number | null,
): Form {
  const every = repeat.every ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new ScheduleSpecError(`repeat.every must be a whole number of 1 or more, got ${every}`);
  }
  const atMinutes = parseAt(repeat.at);
  if (repeat.on !== undefined && repeat.on.length === 0)
    throw new ScheduleSpecError('repeat.on must not be empty');
  const anchorWall =
    startsAt === null
      ? civilToWall(EPOCH_ANCHOR.year, EPOCH_ANCHOR.month, EPOCH_ANCHOR.day)
      : instantToWall(startsAt, zone);
  const anchorDay = Math.floor(anchorWall / DAY_MS);
  const anchor = wallFields(anchorWall);
  switch (repeat.unit) {
    case 'minutes':
    case 'hours': {
      const base = startsAt ?? wallToInstant(anchorWall, zone);
      const unitMs = repeat.unit === 'minutes' ? MINUTE_MS : HOUR_MS;
      return { kind: 'interval', phase: base + atMinutes * MINUTE_MS, periodMs: every * unitMs };
    }
    case 'days':
      return { kind: 'days', every, anchorDay, atMinutes };
    case 'weeks': {
      const on = repeat.on ?? [WEEKDAYS[anchor.weekday]!];
      const weekdays = on.map((d) => {
        const i = WEEKDAYS.indexOf(d as Weekday);
        if (i < 0)
          throw new ScheduleSpecError(`repeat.on for weeks takes weekdays (monday ... sunday), got ${d}`);
        return i;
      });
      const anchorMonday = anchorDay - ((anchor.weekday + 6) % 7);
      return { kind: 'weeks', every, anchorMonday, weekdays: [...new Set(weekdays)].sort(), atMinutes };
    }
    case 'months': {
      const on = repeat.on ?? [anchor.day];
      const days = on.map((d) => {
        if (d === 'last') return 0;
        if (typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= 31) return d;
        throw new ScheduleSpecError(`repeat.on for months takes days of the month 1-31 or last, got ${d}`);
      });
      return {
        kind: 'months',
        every,
        anchorMonth: anchor.year * 12 + anchor.month - 1,
        days: [...new Set(days)],
        atMinutes,
      };
    }
    default:
      throw new ScheduleSpecError(
        `repeat.unit "${String(repeat.unit)}" is not minutes, hours, days, weeks or months`,
      );
  }
}

const CRON_CACHE_SIZE = 10_000;
const cronCache = new Map<string, CronFields>();

/** Parsed once per distinct expression: thousands of schedules share a few crons (and their arrays). */
function cronFields(expr: string): CronFields {
  let cron = cronCache.get(expr);
  if (!cron) {
    const parsed = parseCron(expr);
    if (!parsed.ok) throw new ScheduleSpecError(parsed.message);
    cron = parsed.cron;
    if (cronCache.size >= CRON_CACHE_SIZE) cronCache.clear();
    cronCache.set(expr, cron);
  }
  return cron;
}

/** Turns a spec into numbers once, so each next-firing step is pure arithmetic plus zone lookups. */
export function compileSchedule(spec: ScheduleSpec, defaultZone: string): CompiledSchedule {
  const zone = spec.timezone ?? defaultZone;
  if (!isValidTimeZone(zone)) {
    throw new ScheduleSpecError(
      `timezone "${zone}" is not a known IANA time zone (like Europe/Berlin or UTC)`,
    );
  }
  const startsAt = spec.startsAt === undefined ? null : instant(spec.startsAt, zone, 'startsAt');
  const endsAt = spec.endsAt === undefined ? null : instant(spec.endsAt, zone, 'endsAt');
  const forms = [spec.cron, spec.repeat, spec.once].filter((f) => f !== undefined).length;
  if (forms !== 1) {
    throw new ScheduleSpecError(`a schedule needs exactly one of cron, repeat or once, got ${forms}`);
  }
  let form: Form;
  if (spec.once !== undefined) {
    form = { kind: 'once', at: instant(spec.once, zone, 'once') };
  } else if (spec.cron !== undefined) {
    form = { kind: 'cron', cron: cronFields(spec.cron) };
  } else {
    form = compileRepeat(spec.repeat!, zone, startsAt);
  }
  return { zone, startsAt, endsAt, enabled: spec.enabled !== false, form };
}
