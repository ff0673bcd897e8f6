import type { EventTriggerSpec, ScheduleSpec, TagSpec, TaskSpec, WebhookSpec } from '../manifest/types.js';
import type { LiveObjectSpec } from '../store/types.js';
import { indexTriggers, type TriggerDefinition, type TriggerIndex } from './events/match.js';

/** The live objects the engine acts on, indexed for the hot paths (event matching, schedule firing). */
export interface EngineState {
  tasks: Map<string, TaskSpec>;
  /** Tasks the reconciler may not touch again: retired after their one run. */
  retired: Set<string>;
  schedules: Map<string, ScheduleSpec>;
  /** Shared between schedules (one array per task when a schedule has one task): never mutate. */
  tasksBySchedule: Map<string, readonly string[]>;
  triggers: TriggerDefinition[];
  /** The enabled triggers by event type and name, for `matchEvent`: built here, once per state. */
  triggerIndex: TriggerIndex;
  tags: Map<string, TagSpec>;
  webhooks: Map<string, WebhookSpec>;
}

export function buildState(objects: readonly LiveObjectSpec[]): EngineState {
  const state: EngineState = {
    tasks: new Map(),
    retired: new Set(),
    schedules: new Map(),
    tasksBySchedule: new Map(),
    triggers: [],
    triggerIndex: new Map(),
    tags: new Map(),
    webhooks: new Map(),
  };
  const intern = interner();
  for (const o of objects) {
    switch (o.kind) {
      case 'Task':
        if (o.retiredAt) state.retired.add(o.name);
        else state.tasks.set(o.name, o.spec as TaskSpec);
        break;
      case 'Schedule':
        state.schedules.set(o.name, shareStrings(o.spec as ScheduleSpec, intern));
        break;
      case 'EventTrigger':
        state.triggers.push({ name: o.name, spec: o.spec as EventTriggerSpec });
        break;
      case 'Tag':
        state.tags.set(o.name, o.spec as TagSpec);
        break;
      case 'Webhook':
        state.webhooks.set(o.name, o.spec as WebhookSpec);
        break;
    }
  }
  // Most schedules have one task, and a task lists several schedules: they share one [task] array.
  const alone = new Map<string, readonly string[]>();
  for (const [name, task] of state.tasks) {
    for (const schedule of task.schedules ?? []) {
      const list = state.tasksBySchedule.get(schedule);
      if (!list) {
        let single = alone.get(name);
        if (!single) alone.set(name, (single = [name]));
        state.tasksBySchedule.set(schedule, single);
      } else state.tasksBySchedule.set(schedule, [...list, name]);
    }
  }
  state.triggerIndex = indexTriggers(state.triggers);
  return state;
}

/** One string per distinct value: a spec's strings are parsed apart from every row, zones and times repeat. */
function interner(): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    seen.set(value, value);
    return value;
  };
}

/**
 * The spec with its repeated strings (zone, times, units, weekdays, cron) replaced by shared ones: 100,000
 * schedules in a handful of zones held 100,000 copies of each zone's name. Changed in place: the spec comes
 * fresh from the store's listing, and an equal string in its place changes nothing else.
 */
function shareStrings(spec: ScheduleSpec, intern: (value: string) => string): ScheduleSpec {
  if (spec.timezone !== undefined) spec.timezone = intern(spec.timezone);
  if (spec.cron !== undefined) spec.cron = intern(spec.cron);
  const repeat = spec.repeat;
  if (repeat) {
    repeat.unit = intern(repeat.unit) as typeof repeat.unit;
    if (repeat.at !== undefined) repeat.at = intern(repeat.at);
    const on = repeat.on as Array<string | number> | undefined;
    for (let i = 0; on && i < on.length; i++) if (typeof on[i] === 'string') on[i] = intern(on[i] as string);
  }
  return spec;
}

/** The objects one run of `task` acts on: each tag member, the named object, or nothing (email). */
export function targetsOf(task: TaskSpec, state: EngineState): Array<string | null> {
  if (task.target?.tag !== undefined) return [...(state.tags.get(task.target.tag)?.members ?? [])];
  if (task.target?.name !== undefined) return [task.target.name];
  return [null];
}
