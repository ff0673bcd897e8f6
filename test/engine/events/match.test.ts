import { describe, expect, it } from 'vitest';
import { buildState, matchEvent, type TriggerDefinition } from '../../../src/engine/index.js';
import type { EventTriggerSpec, TagSpec } from '../../../src/manifest/types.js';
import type { EngineEvent, LiveObject } from '../../../src/store/types.js';

const event = (type: string, name: string, object: string | null = null, fields = {}): EngineEvent => ({
  id: 'e1',
  type,
  name,
  object,
  fields,
  at: '2026-11-23T12:00:00.000Z',
});
const trigger = (name: string, on: EventTriggerSpec['event'], tasks: string[], enabled?: boolean) => ({
  name,
  spec: { event: on, tasks, ...(enabled === undefined ? {} : { enabled }) } as EventTriggerSpec,
});
const live = (kind: LiveObject['kind'], name: string, spec: unknown): LiveObject =>
  ({
    kind,
    name,
    metadata: { name },
    spec,
    hash: '',
    managedBy: 'taskops',
    revision: null,
    updatedAt: '',
    retiredAt: null,
  }) as LiveObject;

/** The rule as written down: every enabled trigger in name order, each task once, credited to the first. */
function everyTriggerInNameOrder(e: EngineEvent, triggers: TriggerDefinition[], tags: Map<string, TagSpec>) {
  const byTask = new Map<string, string>();
  for (const t of [...triggers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const want = t.spec.event;
    if (t.spec.enabled === false || want.type !== e.type || want.name !== e.name) continue;
    if (want.object !== undefined && want.object !== e.object) continue;
    if (want.tag !== undefined && (e.object === null || !tags.get(want.tag)?.members?.includes(e.object)))
      continue;
    if (
      Object.entries(want.where ?? {}).some(([f, v]) => !(f in e.fields) || String(e.fields[f]) !== String(v))
    )
      continue;
    for (const task of t.spec.tasks) if (!byTask.has(task)) byTask.set(task, t.name);
  }
  return [...byTask].map(([task, by]) => ({ task, trigger: by }));
}

describe('matchEvent', () => {
  const tags = new Map<string, TagSpec>([['critical', { category: 'alarms', members: ['disk-full'] }]]);

  it('credits a task to the first matching trigger by name, whatever order the triggers come in', () => {
    const triggers = [
      trigger('c', { type: 'alarms', name: 'raised' }, ['t2', 't1']),
      trigger('a', { type: 'alarms', name: 'raised', object: 'disk-full' }, ['t1']),
      trigger('b', { type: 'alarms', name: 'raised' }, ['t3']),
    ];
    const state = buildState(triggers.map((t) => live('EventTrigger', t.name, t.spec)));
    const expected = [
      { task: 't1', trigger: 'a' },
      { task: 't3', trigger: 'b' },
      { task: 't2', trigger: 'c' },
    ];
    expect(matchEvent(event('alarms', 'raised', 'disk-full'), state.triggerIndex, tags)).toEqual(expected);
    expect(matchEvent(event('alarms', 'raised', 'disk-full'), triggers, tags)).toEqual(expected);
  });

  it('skips disabled triggers and applies object, tag and where rules', () => {
    const triggers = [
      trigger('off', { type: 'alarms', name: 'raised' }, ['t-off'], false),
      trigger('obj', { type: 'alarms', name: 'raised', object: 'disk-full' }, ['t-obj']),
      trigger('tag', { type: 'alarms', name: 'raised', tag: 'critical' }, ['t-tag']),
      trigger('where', { type: 'alarms', name: 'raised', where: { severity: 5 } }, ['t-where']),
      trigger('other-name', { type: 'alarms', name: 'cleared' }, ['t-cleared']),
      trigger('other-type', { type: 'vms', name: 'raised' }, ['t-vms']),
    ];
    const { triggerIndex } = buildState(triggers.map((t) => live('EventTrigger', t.name, t.spec)));
    const tasks = (e: EngineEvent) => matchEvent(e, triggerIndex, tags).map((m) => m.task);
    expect(tasks(event('alarms', 'raised', 'disk-full', { severity: '5' }))).toEqual([
      't-obj',
      't-tag',
      't-where',
    ]);
    expect(tasks(event('alarms', 'raised', 'cpu-hot', { severity: 4 }))).toEqual([]);
    expect(tasks(event('alarms', 'raised', null, { severity: 5 }))).toEqual(['t-where']);
    expect(tasks(event('alarms', 'nothing-listens'))).toEqual([]);
  });

  it('over 2,000 triggers of four types gives the same matches, in trigger-name order, as checking every trigger', () => {
    const types = ['users', 'vms', 'syncs', 'alarms'];
    const manyTags = new Map<string, TagSpec>(
      Array.from({ length: 10 }, (_, t) => [
        `group-${t}`,
        { category: 'jobs', members: Array.from({ length: 5 }, (_, m) => `obj-${(t * 2 + m) % 20}`) },
      ]),
    );
    // Names are shuffled against the index order (i * 7919 mod 2000) so buckets are not pre-sorted.
    const triggers = Array.from({ length: 2000 }, (_, i) => {
      const on: EventTriggerSpec['event'] = { type: types[i % 4]!, name: `n${i % 25}` };
      if (i % 5 === 1) on.where = { severity: 'critical' };
      if (i % 5 === 2) on.object = `obj-${i % 20}`;
      if (i % 5 === 3) on.tag = `group-${i % 10}`;
      const name = `trigger-${String((i * 7919) % 2000).padStart(4, '0')}`;
      return trigger(
        name,
        on,
        [`task-${i % 300}`, `task-${(i * 3) % 300}`],
        i % 17 === 0 ? false : undefined,
      );
    });
    const state = buildState([
      ...[...manyTags].map(([name, spec]) => live('Tag', name, spec)),
      ...triggers.map((t) => live('EventTrigger', t.name, t.spec)),
    ]);
    let matched = 0;
    for (let j = 0; j < 400; j++) {
      const e = event(types[j % 5 === 4 ? 0 : j % 4]!, `n${j % 30}`, j % 7 === 0 ? null : `obj-${j % 20}`, {
        severity: j % 3 === 0 ? 'critical' : 'info',
      });
      const got = matchEvent(e, state.triggerIndex, state.tags);
      expect(got).toEqual(everyTriggerInNameOrder(e, triggers, manyTags));
      matched += got.length;
    }
    expect(matched).toBeGreaterThan(500);
  });
});
