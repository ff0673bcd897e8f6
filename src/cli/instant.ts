import { DateTime } from 'luxon';
import { CliError, EXIT } from './exit.js';

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i;
const WALL_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$/;

/**
 * A point in time given on the command line: ISO 8601 with an offset is that instant; a date or wall time
 * without one is read in `zone` (the schedule's), never in the machine's. Anything else (`5`, `tomorrow`,
 * `03/01/2026`) is a usage error, as Date() would read it in some zone or as a year.
 */
export function parseInstant(value: string, zone: string, flag: string): Date {
  if (WITH_OFFSET.test(value)) {
    const at = DateTime.fromISO(value, { setZone: true });
    if (at.isValid) return at.toJSDate();
  } else if (WALL_TIME.test(value)) {
    const at = DateTime.fromISO(value.replace(' ', 'T'), { zone });
    if (at.isValid) return at.toJSDate();
  }
  throw new CliError(
    `${flag} ${JSON.stringify(value)} is not a time: give ISO 8601 with an offset (2026-03-01T09:00:00Z, ` +
      `2026-03-01T09:00:00+01:00) or a wall time in ${zone} (2026-03-01T09:00, 2026-03-01)`,
    EXIT.usage,
  );
}
