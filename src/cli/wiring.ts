import type {
  EventTriggerSpec,
  Kind,
  ScheduleSpec,
  TagSpec,
  TaskSpec,
  WebhookSpec,
} from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';

/** One edge of the object graph as `describe` shows it: `Task/x uses Schedule/y`, and the reverse. */
export interface Link {
  relation: string;
  kind: Kind;
  name: string;
}

const of = <K extends Kind>(objects: readonly LiveObject[], kind: K) =>
  objects.filter((o): o is LiveObject<K> => o.kind === kind);

/** What an object points at (out) and what points at it (in), computed from the live specs (pure). */
export function wiring(object: LiveObject, objects: readonly LiveObject[]): { out: Link[]; in: Link[] } {
  const out: Link[] = [];
  const into: Link[] = [];
  const tasks = of(objects, 'Task');
  const triggers = of(objects, 'EventTrigger');
  switch (object.kind) {
    case 'Task': {
      const spec = object.spec as TaskSpec;
      for (const s of spec.schedules ?? []) out.push({ relation: 'fired by', kind: 'Schedule', name: s });
      if (spec.target?.tag)
        out.push({ relation: 'runs on the members of', kind: 'Tag', name: spec.target.tag });
      if (spec.target?.name && spec.objectType === 'webhook')
        out.push({ relation: 'calls', kind: 'Webhook', name: spec.target.name });
      for (const t of triggers)
        if (t.spec.tasks.includes(object.name))
          into.push({ relation: 'started by', kind: 'EventTrigger', name: t.name });
      break;
    }
    case 'Schedule':
      for (const t of tasks)
        if ((t.spec.schedules ?? []).includes(object.name))
          into.push({ relation: 'fires', kind: 'Task', name: t.name });
      break;
    case 'EventTrigger': {
      const spec = object.spec as EventTriggerSpec;
      for (const t of spec.tasks) out.push({ relation: 'starts', kind: 'Task', name: t });
      if (spec.event.tag) out.push({ relation: 'matches members of', kind: 'Tag', name: spec.event.tag });
      break;
    }
    case 'Webhook':
      for (const t of tasks)
        if (t.spec.objectType === 'webhook' && t.spec.target?.name === object.name)
          into.push({ relation: 'called by', kind: 'Task', name: t.name });
      break;
    case 'Tag':
      for (const t of tasks)
        if (t.spec.target?.tag === object.name)
          into.push({ relation: 'targeted by', kind: 'Task', name: t.name });
      for (const t of triggers)
        if (t.spec.event.tag === object.name)
          into.push({ relation: 'matched by', kind: 'EventTrigger', name: t.name });
      break;
  }
  return { out, in: into };
}

/** A one-line summary of a spec for `get` tables. */
export function summary(object: LiveObject): string {
  switch (object.kind) {
    case 'Task': {
      const s = object.spec as TaskSpec;
      const target = s.target?.tag ? `tag ${s.target.tag}` : s.target?.name ? s.target.name : 'no target';
      return `${s.objectType} ${s.action} → ${target}`;
    }
    case 'Schedule':
      return when(object.spec as ScheduleSpec);
    case 'EventTrigger': {
      const e = (object.spec as EventTriggerSpec).event;
      return `${e.type} ${e.name}${e.object ? ` of ${e.object}` : ''}${e.tag ? ` in tag ${e.tag}` : ''}`;
    }
    case 'Webhook': {
      const s = object.spec as WebhookSpec;
      return s.url ? maskedUrl(s.url) : 'URL from a secret';
    }
    case 'Tag': {
      const s = object.spec as TagSpec;
      return `${s.category}: ${(s.members ?? []).length} member${(s.members ?? []).length === 1 ? '' : 's'}`;
    }
  }
  return '';
}

/** `cron 0 18 * * 5`, `every 2 hours at 09:00`, `once 2026-03-01T09:00`. */
export function when(spec: ScheduleSpec): string {
  if (spec.cron) return `cron ${spec.cron}`;
  if (spec.once) return `once ${spec.once}`;
  if (spec.repeat) {
    const r = spec.repeat;
    const on = r.on ? ` on ${r.on.join(',')}` : '';
    return `every ${r.every ?? 1} ${r.unit}${on}${r.at ? ` at ${r.at}` : ''}`;
  }
  return '-';
}

/** Scheme and host only: user info, a path (Slack's /services/T…/B…/secret) or a query may carry a credential. */
export function maskedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname !== '/' || u.search ? '/…' : '/'}`;
  } catch {
    return '(not a URL)';
  }
}
