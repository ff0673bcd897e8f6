import { DateTime } from 'luxon';
import type { ScheduleSpec } from '../types.js';
import { compileSchedule } from './compile.js';
import { firingsAfter } from './next.js';

export interface PreviewedFiring {
  at: Date;
  /** `Fri 2026-11-27 18:00 EST (-05:00)`: the local time in the schedule's zone. */
  local: string;
  /** `2026-11-27T23:00:00.000Z`. */
  utc: string;
}

/** en-US names American zones (EST), en-GB European ones (CET), en-AU Australian (AEDT), en-IN India (IST). */
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-NZ'] as const;
const abbreviators = new Map<string, Intl.DateTimeFormat>();

/** A zone abbreviation like EST or CEST, else Intl's fallback (GMT+5:30 style). */
export function zoneAbbreviation(at: Date, zone: string): string {
  let fallback = '';
  for (const locale of ABBREVIATION_LOCALES) {
    const key = `${locale} ${zone}`;
    let f = abbreviators.get(key);
    if (!f) {
      f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
      abbreviators.set(key, f);
    }
    const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (!/^(GMT|UTC)[+-−]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback;
}

/** One firing as the CLI shows it: local wall time with abbreviation and offset. */
export function formatFiring(at: Date, zone: string): PreviewedFiring {
  const local = DateTime.fromJSDate(at, { zone });
  return {
    at,
    local: `${local.toFormat('ccc yyyy-MM-dd HH:mm', { locale: 'en-US' })} ${zoneAbbreviation(at, zone)} (${local.toFormat('ZZ')})`,
    utc: at.toISOString(),
  };
}

export interface PreviewOptions {
  after: Date;
  count: number;
  defaultZone: string;
}

/** The next firings of a schedule, formatted in its zone (for `taskops preview` and `status`). */
export function previewFirings(spec: ScheduleSpec, opts: PreviewOptions): PreviewedFiring[] {
  const plan = compileSchedule(spec, opts.defaultZone);
  return firingsAfter(plan, opts.after.getTime(), opts.count).map((t) =>
    formatFiring(new Date(t), plan.zone),
  );
}
