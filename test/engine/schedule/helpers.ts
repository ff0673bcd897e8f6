import { nextFirings } from '../../../src/engine/schedule/index.js';
import type { ScheduleSpec } from '../../../src/manifest/types.js';

/** The next firings as ISO UTC strings. */
export function firings(spec: ScheduleSpec, after: string, count = 5, defaultZone = 'UTC'): string[] {
  return nextFirings(spec, { after: new Date(after), count, defaultZone }).map((d) => d.toISOString());
}

/** Firings in [from, to) as ISO UTC strings. */
export function firingsBetween(spec: ScheduleSpec, from: string, to: string): string[] {
  const after = new Date(new Date(from).getTime() - 1).toISOString();
  return firings(spec, after, 2000).filter((t) => t < new Date(to).toISOString());
}
