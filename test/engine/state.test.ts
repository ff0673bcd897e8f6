import { describe, expect, it } from 'vitest';
import { buildState } from '../../src/engine/index.js';
import type { LiveObjectSpec } from '../../src/store/types.js';

const task = (name: string, schedules: string[]): LiveObjectSpec => ({
  kind: 'Task',
  name,
  spec: { objectType: 'jobs', action: 'ok', target: { name }, schedules },
  retiredAt: null,
});
const schedule = (name: string, spec: Record<string, unknown>): LiveObjectSpec => ({
  kind: 'Schedule',
  name,
  spec,
  retiredAt: null,
});

describe('the engine state (buildState)', () => {
  it('lists every task of a schedule in task order, one task or several', () => {
    const state = buildState([
      task('a', ['daily', 'shared']),
      task('b', ['shared', 'weekly']),
      task('c', ['shared']),
    ]);
    expect(Object.fromEntries(state.tasksBySchedule)).toStrictEqual({
      daily: ['a'],
      shared: ['a', 'b', 'c'],
      weekly: ['b'],
    });
  });

  it('shares one [task] array between the schedules of a task, and a second task does not change it', () => {
    const state = buildState([task('a', ['one', 'two', 'three']), task('b', ['three'])]);
    const [one, two, three] = ['one', 'two', 'three'].map((s) => state.tasksBySchedule.get(s));
    expect(one).toBe(two);
    expect(one).toStrictEqual(['a']);
    expect(three).toStrictEqual(['a', 'b']);
  });

  it('keeps every schedule spec equal to the stored one when it shares their strings', () => {
    const specs = [
      {
        timezone: 'Europe/Berlin',
        repeat: { unit: 'weeks', every: 1, on: ['monday', 'friday'], at: '09:30' },
      },
      { timezone: 'Europe/Berlin', repeat: { unit: 'months', on: [1, 'last'], at: '09:30' } },
      { timezone: 'UTC', cron: '0 3 * * *', enabled: false },
      { once: '2026-06-01T10:00:00Z' },
    ];
    // Separate strings for equal values, as JSON.parse gives them for separate rows.
    const fresh = specs.map((s) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>);
    const state = buildState(fresh.map((spec, i) => schedule(`s${i}`, spec)));
    expect([...state.schedules.values()]).toStrictEqual(specs);
  });
});
