import { matchEvent, type MatchableEvent } from '../manifest/events/match.js';
import type { DesiredState, EventTriggerSpec, TagSpec } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';
import type { Plan, PlanChange, PlanEventMatches } from './plan.js';

/** How far back recorded events are replayed against a changed trigger. */
export const EVENT_LOOKBACK_DAYS = 7;

const tagsOf = (objects: { kind: string; name: string; spec: unknown }[]): Map<string, TagSpec> =>
  new Map(objects.filter((o) => o.kind === 'Tag').map((o) => [o.name, o.spec as TagSpec]));

function count(
  name: string,
  spec: EventTriggerSpec,
  events: readonly MatchableEvent[],
  tags: Map<string, TagSpec>,
) {
  const trigger = [{ name, spec }];
  return events.filter((e) => matchEvent(e, trigger, tags).length > 0).length;
}

/**
 * The plan with, on every created or changed EventTrigger, how many of the recorded events (the last
 * EVENT_LOOKBACK_DAYS days of the live store) it matched before and would match after. Pure: the events
 * are passed in.
 */
export function withEventCounts(
  plan: Plan,
  desired: DesiredState,
  live: LiveObject[],
  events: readonly MatchableEvent[],
): Plan {
  const liveTags = tagsOf(live);
  const desiredTags = tagsOf(
    desired.manifests.map((m) => ({ kind: m.kind, name: m.metadata.name, spec: m.spec })),
  );
  const counted = (c: PlanChange): PlanEventMatches | null => {
    if (c.kind !== 'EventTrigger' || !c.after) return null;
    return {
      days: EVENT_LOOKBACK_DAYS,
      before: c.before ? count(c.name, c.before.spec as EventTriggerSpec, events, liveTags) : null,
      after: count(c.name, c.after.spec as EventTriggerSpec, events, desiredTags),
    };
  };
  return { ...plan, changes: plan.changes.map((c) => ({ ...c, eventMatches: counted(c) })) };
}
