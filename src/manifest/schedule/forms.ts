import { nextCronDay, type CronFields } from '../cron.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  civilToWall,
  daysInMonth,
  instantToWall,
  wallFields,
  wallToInstant,
} from '../time.js';
import type { Form } from './compile.js';

/**
 * Next firing strictly after `after` (epoch ms) for each form, ignoring
 * startsAt/endsAt/enabled (see next.ts). Wall-clock forms walk candidate local
 * times upward from the local time of `after`; wallToInstant is monotonic, so
 * the first candidate that resolves past `after` is the answer.
 */

/** months: consecutive qualifying months with no real day (every 12 months on the 31st, from February). */
const MONTH_SEARCH_PERIODS = 120;

const mod = (a: number, n: number): number => ((a % n) + n) % n;

function nextCron(cron: CronFields, zone: string, after: number): number | null {
  const wallAfter = instantToWall(after, zone);
  const firstDay = Math.floor(wallAfter / DAY_MS);
  const start = wallFields(wallAfter);
  // Each matching day is tried in turn; a day whose times all lie before `after` moves on to the next.
  for (let day = nextCronDay(cron, firstDay); day !== null; day = nextCronDay(cron, day + 1)) {
    for (const hour of cron.hours) {
      if (day === firstDay && hour < start.hour) continue;
      for (const minute of cron.minutes) {
        if (day === firstDay && hour === start.hour && minute < start.minute) continue;
        const t = wallToInstant(day * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS, zone);
        if (t > after) return t;
      }
    }
  }
  return null;
}

function nextInterval(phase: number, periodMs: number, after: number): number {
  return phase + (Math.floor((after - phase) / periodMs) + 1) * periodMs;
}

function nextDays(every: number, anchorDay: number, atMinutes: number, zone: string, after: number): number {
  let day = Math.floor(instantToWall(after, zone) / DAY_MS);
  day += mod(anchorDay - day, every);
  for (;;) {
    const t = wallToInstant(day * DAY_MS + atMinutes * MINUTE_MS, zone);
    if (t > after) return t;
    day += every;
  }
}

function nextWeeks(form: Extract<Form, { kind: 'weeks' }>, zone: string, after: number): number {
  let day = Math.floor(instantToWall(after, zone) / DAY_MS);
  for (;;) {
    const week = Math.floor((day - form.anchorMonday) / 7);
    const offWeeks = mod(week, form.every);
    if (offWeeks !== 0) {
      day = form.anchorMonday + (week + form.every - offWeeks) * 7;
      continue;
    }
    // 1970-01-01 (day 0) was a Thursday.
    if (form.weekdays.includes(mod(day + 4, 7))) {
      const t = wallToInstant(day * DAY_MS + form.atMinutes * MINUTE_MS, zone);
      if (t > after) return t;
    }
    day++;
  }
}

function nextMonths(form: Extract<Form, { kind: 'months' }>, zone: string, after: number): number | null {
  const start = wallFields(instantToWall(after, zone));
  const firstMonth = start.year * 12 + start.month - 1;
  let month = firstMonth + mod(form.anchorMonth - firstMonth, form.every);
  for (let empty = 0; empty < MONTH_SEARCH_PERIODS; month += form.every) {
    const year = Math.floor(month / 12);
    const monthOfYear = mod(month, 12) + 1;
    const length = daysInMonth(year, monthOfYear);
    // Days past the month's end (31 in April) are skipped, not moved; 0 is `last`.
    const days = [...new Set(form.days.map((d) => (d === 0 ? length : d)).filter((d) => d <= length))].sort(
      (a, b) => a - b,
    );
    let found = false;
    for (const day of days) {
      if (month === firstMonth && day < start.day) continue;
      found = true;
      const wall = civilToWall(year, monthOfYear, day) + form.atMinutes * MINUTE_MS;
      const t = wallToInstant(wall, zone);
      if (t > after) return t;
    }
    empty = found ? 0 : empty + 1;
  }
  return null;
}

export function nextOfForm(form: Form, zone: string, after: number): number | null {
  switch (form.kind) {
    case 'once':
      return form.at > after ? form.at : null;
    case 'cron':
      return nextCron(form.cron, zone, after);
    case 'interval':
      return nextInterval(form.phase, form.periodMs, after);
    case 'days':
      return nextDays(form.every, form.anchorDay, form.atMinutes, zone, after);
    case 'weeks':
      return nextWeeks(form, zone, after);
    case 'months':
      return nextMonths(form, zone, after);
  }
}
