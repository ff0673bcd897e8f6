import type { EventTriggerSpec, TagSpec } from '../types.js';

/** What matching reads of an event (the store's EngineEvent fits): kept here so manifest imports no store. */
export interface MatchableEvent {
  type: string;
  name: string;
  object: string | null;
  fields: Record<string, string | number | boolean>;
}

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
 * The enabled triggers by event type, then event name, each list in trigger-name order: an event is only
 * checked against the triggers that listen to its type and name. Built once per live state (`buildState`).
 */
export type TriggerIndex = ReadonlyMap<string, ReadonlyMap<string, readonly TriggerDefinition[]>>;

export function indexTriggers(triggers: readonly TriggerDefinition[]): TriggerIndex {
  const byType = new Map<string, Map<string, TriggerDefinition[]>>();
  for (const trigger of triggers) {
    if (trigger.spec.enabled === false) continue;
    const { type, name } = trigger.spec.event;
    let byName = byType.get(type);
    if (!byName) byType.set(type, (byName = new Map()));
    const list = byName.get(name);
    if (list) list.push(trigger);
    else byName.set(name, [trigger]);
  }
  // Stable, so triggers of equal name (only possible in hand-built lists) keep their given order.
  for (const byName of byType.values()) for (const list of byName.values()) list.sort(byTriggerName);
  return byType;
}

/**
 * The tasks an event fires: every enabled trigger whose type, name, object or tag membership and `where`
 * fields match, each task once, credited to the first such trigger by name. Pure: tags are passed in.
 * Takes the index built once per state; a plain list is indexed on the spot (same result, slower).
 */
export function matchEvent(
  event: MatchableEvent,
  triggers: TriggerIndex | readonly TriggerDefinition[],
  tags: ReadonlyMap<string, TagSpec>,
): EventMatch[] {
  const index = isTriggerList(triggers) ? indexTriggers(triggers) : triggers;
  const candidates = index.get(event.type)?.get(event.name);
  if (!candidates) return [];
  const byTask = new Map<string, string>();
  for (const trigger of candidates) {
    if (!matches(event, trigger.spec, tags)) continue;
    for (const task of trigger.spec.tasks) if (!byTask.has(task)) byTask.set(task, trigger.name);
  }
  return [...byTask].map(([task, trigger]) => ({ task, trigger }));
}

function isTriggerList(
  triggers: TriggerIndex | readonly TriggerDefinition[],
): triggers is readonly TriggerDefinition[] {
  return Array.isArray(triggers);
}

function byTriggerName(a: TriggerDefinition, b: TriggerDefinition): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Type and name are settled by the index; the rest of the trigger's conditions. */
function matches(event: MatchableEvent, spec: EventTriggerSpec, tags: ReadonlyMap<string, TagSpec>): boolean {
  const want = spec.event;
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
