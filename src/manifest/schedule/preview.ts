import { DateTime } from 'luxon';
import type { ScheduleSpec } from '../types.js';
import { compileSchedule } from './compile.js';
import { firingsAfter } from './next.js';
import { zoneAbbreviation } from '../../text/zone-abbreviation.js';

export { zoneAbbreviation };

export interface PreviewedFiring {
  at: Date;
  /** `Fri 2026-11-27 18:00 EST (-05:00)`: the local time in the schedule's zone. */
  local: string;
  /** `2026-11-27T23:00:00.000Z`. */
  utc: string;
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
