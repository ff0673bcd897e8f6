import type { EventTriggerSpec, TagSpec } from '../../manifest/types.js';
import type { EngineEvent } from '../../store/types.js';

export interface TriggerDefinition {
  name: string;
  spec: EventTriggerSpec;
}

export interface EventMatch {
  task: string;
  /** The first trigger (by name) that selected the task; one event runs a task once however many triggers match. */
  trigger: string;
}

/**
 * The tasks an event fires: every enabled trigger whose type, name, object or tag membership and `where`
 * fields match, each task once. Pure: tags are passed in.
 */
export function matchEvent(
  event: EngineEvent,
  triggers: readonly TriggerDefinition[],
  tags: ReadonlyMap<string, TagSpec>,
): EventMatch[] {
  const byTask = new Map<string, string>();
  const ordered = [...triggers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const trigger of ordered) {
    if (trigger.spec.enabled === false || !matches(event, trigger.spec, tags)) continue;
    for (const task of trigger.spec.tasks) if (!byTask.has(task)) byTask.set(task, trigger.name);
  }
  return [...byTask].map(([task, trigger]) => ({ task, trigger }));
}

function matches(event: EngineEvent, spec: EventTriggerSpec, tags: ReadonlyMap<string, TagSpec>): boolean {
  const want = spec.event;
  if (want.type !== event.type || want.name !== event.name) return false;
  if (want.object !== undefined && want.object !== event.object) return false;
  if (want.tag !== undefined) {
    const members = tags.get(want.tag)?.members ?? [];
    if (event.object === null || !members.includes(event.object)) return false;
  }
  for (const [field, expected] of Object.entries(want.where ?? {})) {
    // Event fields arrive as text from the CLI and JSON from the API: compare as text so 5 matches "5".
    if (
      expected === undefined ||
      !(field in event.fields) ||
      String(event.fields[field]) !== String(expected)
    )
      return false;
  }
  return true;
}
