import type { LiveObject } from '../store/types.js';
import { nextFirings } from './schedule/index.js';
import { buildState } from './state.js';

export interface UpcomingFiring {
  schedule: string;
  at: string;
  tasks: string[];
}

/**
 * The next `count` firings across the live schedules that have enabled tasks, soonest first.
 * Pure: computed from the objects, so `status` works without a running engine.
 */
export function upcomingFirings(
  objects: readonly LiveObject[],
  now: Date,
  count: number,
  defaultZone: string,
): UpcomingFiring[] {
  const state = buildState(objects);
  const all: UpcomingFiring[] = [];
  for (const [schedule, spec] of state.schedules) {
    const tasks = (state.tasksBySchedule.get(schedule) ?? []).filter(
      (t) => state.tasks.get(t)?.enabled !== false,
    );
    if (tasks.length === 0) continue;
    let dates: Date[];
    try {
      dates = nextFirings(spec, { after: now, count, defaultZone });
    } catch {
      continue; // a schedule that cannot be planned fires nothing; the engine logs it
    }
    for (const at of dates) all.push({ schedule, at: at.toISOString(), tasks });
  }
  return all
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.schedule < b.schedule ? -1 : 1))
    .slice(0, count);
}
