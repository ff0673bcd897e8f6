/**
 * The engine benchmark's world: tasks on a noop driver, event triggers of every matching style
 * (type/name only, object, tag membership, where fields), and the events that hit them.
 */
import { stringify } from 'yaml';
import type { EventInput } from '../../src/engine/index.js';

export const OBJECT_TYPE = 'jobs';
/** Engine config: the noop driver succeeds at once, so the engine itself is what is measured. */
export const ENGINE_CONFIG = {
  maxConcurrentRuns: 8,
  drivers: { [OBJECT_TYPE]: { type: 'noop', actions: { ok: ['unused'] } } },
};

const TYPES = ['users', 'vms', 'syncs', 'alarms'];
const NAMES = 50;
const OBJECTS = 20;
const TAGS = 10;
const TAG_MEMBERS = 5;

const manifest = (kind: string, name: string, spec: Record<string, unknown>) =>
  stringify({ apiVersion: 'taskops/v1', kind, metadata: { name }, spec });

/**
 * `triggers` triggers and as many tasks. Trigger i listens to type TYPES[i % 4] and name n(i % 50), so each
 * (type, name) pair has two triggers: one unfiltered or on `where`, one on an object or a tag's members.
 * Every 20th task targets a tag (5 runs per firing); every 10th trigger fires a second task.
 */
export function eventWorld(triggers: number): Record<string, string> {
  const files: Record<string, string> = {};
  const tags = Array.from({ length: TAGS }, (_, t) =>
    manifest('Tag', `group-${t}`, {
      category: OBJECT_TYPE,
      members: Array.from({ length: TAG_MEMBERS }, (_, m) => `obj-${(t * 2 + m) % OBJECTS}`),
    }),
  );
  files['tags.yaml'] = tags.join('---\n');
  const tasks = Array.from({ length: triggers }, (_, i) =>
    manifest('Task', `task-${i}`, {
      objectType: OBJECT_TYPE,
      action: 'ok',
      target: i % 20 === 0 ? { tag: `group-${i % TAGS}` } : { name: `job-${i}` },
      // allow: a backlog must not turn runs into "skipped" (forbid), which would flatter the throughput.
      concurrency: 'allow',
    }),
  );
  files['tasks.yaml'] = tasks.join('---\n');
  const list = Array.from({ length: triggers }, (_, i) => {
    const event: Record<string, unknown> = { type: TYPES[i % TYPES.length], name: `n${i % NAMES}` };
    const style = Math.floor(i / 100) % 2 === 0 ? i % 2 : 2 + (i % 2);
    if (style === 1) event.where = { severity: 'critical' };
    if (style === 2) event.object = `obj-${i % OBJECTS}`;
    if (style === 3) event.tag = `group-${i % TAGS}`;
    const fired = i % 10 === 0 ? [`task-${i}`, `task-${(i + 1) % triggers}`] : [`task-${i}`];
    return manifest('EventTrigger', `trigger-${String(i).padStart(4, '0')}`, { event, tasks: fired });
  });
  files['triggers.yaml'] = list.join('---\n');
  return files;
}

/** Event j of the stream: cycles through every (type, name) pair, objects and severities. */
export function eventAt(j: number): EventInput {
  return {
    type: TYPES[j % TYPES.length]!,
    name: `n${j % NAMES}`,
    object: `obj-${j % OBJECTS}`,
    fields: { severity: j % 3 === 0 ? 'critical' : 'info', seq: j },
  };
}
