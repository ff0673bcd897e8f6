import type { EventTriggerSpec, ScheduleSpec, TagSpec, TaskSpec, WebhookSpec } from '../manifest/types.js';
import type { LiveObjectSpec } from '../store/types.js';
import { indexTriggers, type TriggerDefinition, type TriggerIndex } from './events/match.js';

/** The live objects the engine acts on, indexed for the hot paths (event matching, schedule firing). */
export interface EngineState {
  tasks: Map<string, TaskSpec>;
  /** Tasks the reconciler may not touch again: retired after their one run. */
  retired: Set<string>;
  schedules: Map<string, ScheduleSpec>;
  tasksBySchedule: Map<string, string[]>;
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
  for (const o of objects) {
    switch (o.kind) {
      case 'Task':
        if (o.retiredAt) state.retired.add(o.name);
        else state.tasks.set(o.name, o.spec as TaskSpec);
        break;
      case 'Schedule':
        state.schedules.set(o.name, o.spec as ScheduleSpec);
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
  for (const [name, task] of state.tasks) {
    for (const schedule of task.schedules ?? []) {
      const list = state.tasksBySchedule.get(schedule);
      // A literal, not a push onto []: V8 gives a pushed array room for 17, and most schedules have one task.
      if (list) list.push(name);
      else state.tasksBySchedule.set(schedule, [name]);
    }
  }
  state.triggerIndex = indexTriggers(state.triggers);
  return state;
}

/** The objects one run of `task` acts on: each tag member, the named object, or nothing (email). */
export function targetsOf(task: TaskSpec, state: EngineState): Array<string | null> {
  if (task.target?.tag !== undefined) return [...(state.tags.get(task.target.tag)?.members ?? [])];
  if (task.target?.name !== undefined) return [task.target.name];
  return [null];
}
