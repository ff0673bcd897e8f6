import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Scheduler,
  WALL_CLOCK_CHECK_MS,
  type Clock,
  type FireEvent,
  type MissedEvent,
  type NamedSchedule,
} from '../../../src/engine/schedule/index.js';
import type { ScheduleSpec } from '../../../src/manifest/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function setup<C extends Clock = ManualClock>(opts: { now: string; catchUpWindowMs?: number; clock?: C }) {
  const clock = (opts.clock ?? new ManualClock(opts.now)) as C;
  const fired: FireEvent[] = [];
  const missed: MissedEvent[] = [];
  const invalid: string[] = [];
  const scheduler = new Scheduler({
    clock,
    defaultZone: 'UTC',
    catchUpWindowMs: opts.catchUpWindowMs ?? 10 * MIN,
    onFire: (e) => fired.push(e),
    onMissed: (e) => missed.push(e),
    onInvalid: (e) => invalid.push(`${e.schedule}: ${e.message}`),
  });
  const fires = () =>
    fired.map((e) => `${e.schedule}@${e.scheduledFor.toISOString()}${e.catchUp ? ' catch-up' : ''}`);
  const misses = () => missed.map((e) => `${e.schedule}@${e.scheduledFor.toISOString()}`);
  return { clock, scheduler, fired, missed, invalid, fires, misses };
}

const list = (specs: Record<string, ScheduleSpec>): NamedSchedule[] =>
  Object.entries(specs).map(([name, spec]) => ({ name, spec }));

const daily9 = { cron: '0 9 * * *' };
const hourly = { repeat: { unit: 'hours' as const } };

describe('Scheduler firing', () => {
  it('fires each schedule at its time, in time order, with firedAt = scheduledFor on an exact clock', () => {
    const { clock, scheduler, fired, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ b: daily9, a: { once: '2026-06-01T08:30:00Z' } }), new Map());
    clock.advanceTo('2026-06-02T09:00:00Z');
    expect(fires()).toEqual([
      'a@2026-06-01T08:30:00.000Z',
      'b@2026-06-01T09:00:00.000Z',
      'b@2026-06-02T09:00:00.000Z',
    ]);
    expect(fired.every((e) => e.firedAt.getTime() === e.scheduledFor.getTime())).toBe(true);
  });

  it('fires every schedule due at the same instant', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ x: daily9, y: daily9, z: daily9 }), new Map());
    clock.advanceTo('2026-06-01T09:00:00Z');
    expect(fires().sort()).toEqual([
      'x@2026-06-01T09:00:00.000Z',
      'y@2026-06-01T09:00:00.000Z',
      'z@2026-06-01T09:00:00.000Z',
    ]);
  });

  it('keeps a single clock timer however many schedules are resident', () => {
    const clock = new ManualClock('2026-06-01T00:00:00Z');
    const { scheduler } = setup({ now: '', clock });
    const many = Array.from({ length: 1000 }, (_, i) => ({
      name: `s${i}`,
      spec: { cron: `${i % 60} * * * *` },
    }));
    scheduler.setSchedules(many, new Map());
    expect(clock.pendingTimers).toBe(1);
    clock.advanceBy(HOUR);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires a once schedule once and then holds no timer', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T00:00:00Z' });
    scheduler.setSchedules(list({ o: { once: '2026-06-01T00:10:00Z' } }), new Map());
    clock.advanceBy(365 * 24 * HOUR);
    expect(fires()).toEqual(['o@2026-06-01T00:10:00.000Z']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires nothing for a disabled schedule, and only reports a once that passed during downtime', () => {
    const { clock, scheduler, fired, missed } = setup({ now: '2026-06-01T00:00:00Z' });
    scheduler.setSchedules(
      list({ off: { ...daily9, enabled: false }, past: { once: '2026-05-01T00:00:00Z' } }),
      new Map([['past', new Date('2026-04-01T00:00:00Z')]]),
    );
    clock.advanceBy(48 * HOUR);
    expect(fired).toEqual([]);
    expect(missed.map((e) => e.schedule)).toEqual(['past']);
  });

  it('lists the pending firing first in nextFirings', () => {
    const { scheduler } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    expect(scheduler.nextFirings('d', 2).map((d) => d.toISOString())).toEqual([
      '2026-06-01T09:00:00.000Z',
      '2026-06-02T09:00:00.000Z',
    ]);
    expect(scheduler.nextFirings('unknown', 2)).toEqual([]);
  });

  it('reports an unplannable spec and keeps the others running', () => {
    const { clock, scheduler, invalid, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ bad: { cron: '0 9 * *' }, good: daily9 }), new Map());
    clock.advanceTo('2026-06-01T09:00:00Z');
    expect(invalid).toEqual([
      'bad: cron must have 5 fields (minute hour day-of-month month day-of-week), got 4',
    ]);
    expect(fires()).toEqual(['good@2026-06-01T09:00:00.000Z']);
  });

  it('stops firing after stop()', () => {
    const { clock, scheduler, fired } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    scheduler.stop();
    clock.advanceBy(48 * HOUR);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(() => scheduler.setSchedules([], new Map())).toThrow('stopped');
  });
});

describe('Scheduler catch-up after downtime', () => {
  const lastFired = (iso: string) => new Map([['d', new Date(iso)]]);

  it('runs the missed firing exactly once when it is within the catch-up window', () => {
    const { clock, scheduler, fired, fires, misses } = setup({
      now: '2026-06-01T09:05:00Z',
      catchUpWindowMs: 10 * MIN,
    });
    scheduler.setSchedules(list({ d: daily9 }), lastFired('2026-05-31T09:00:00Z'));
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z catch-up']);
    expect(fired[0]!.firedAt.toISOString()).toBe('2026-06-01T09:05:00.000Z');
    expect(misses()).toEqual([]);
    clock.advanceTo('2026-06-02T09:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z catch-up', 'd@2026-06-02T09:00:00.000Z']);
  });

  it('skips and reports the missed firing when it is older than the window', () => {
    const { scheduler, fired, misses } = setup({ now: '2026-06-01T09:30:00Z', catchUpWindowMs: 10 * MIN });
    scheduler.setSchedules(list({ d: daily9 }), lastFired('2026-05-31T09:00:00Z'));
    expect(fired).toEqual([]);
    expect(misses()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    expect(scheduler.nextFirings('d', 1)[0]!.toISOString()).toBe('2026-06-02T09:00:00.000Z');
  });

  it('runs only the most recent of several missed firings and reports the others', () => {
    const { scheduler, fires, misses } = setup({ now: '2026-06-01T05:30:00Z', catchUpWindowMs: HOUR });
    scheduler.setSchedules(list({ d: hourly }), lastFired('2026-06-01T01:00:00Z'));
    expect(fires()).toEqual(['d@2026-06-01T05:00:00.000Z catch-up']);
    expect(misses()).toEqual([
      'd@2026-06-01T02:00:00.000Z',
      'd@2026-06-01T03:00:00.000Z',
      'd@2026-06-01T04:00:00.000Z',
    ]);
  });

  it('never bursts: a month down with an every-minute schedule gives one run and at most 10 missed reports', () => {
    const { scheduler, fired, missed } = setup({ now: '2026-07-01T00:00:30Z', catchUpWindowMs: HOUR });
    const started = performance.now();
    scheduler.setSchedules(list({ d: { cron: '* * * * *' } }), lastFired('2026-06-01T00:00:00Z'));
    expect(performance.now() - started).toBeLessThan(500);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.scheduledFor.toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(missed).toHaveLength(10);
    expect(missed.at(-1)!.scheduledFor.toISOString()).toBe('2026-06-30T23:59:00.000Z');
  });

  it('catches up nothing for a schedule that has never fired', () => {
    const { scheduler, fired, missed } = setup({ now: '2026-06-01T09:05:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    expect([fired, missed]).toEqual([[], []]);
  });

  it('catches up nothing when the last firing is the most recent due one', () => {
    const { scheduler, fired, missed } = setup({ now: '2026-06-01T09:05:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), lastFired('2026-06-01T09:00:00Z'));
    expect([fired, missed]).toEqual([[], []]);
  });

  it('catches up only on the first call, not for schedules added later', () => {
    const { clock, scheduler, fired, missed } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules([], new Map());
    clock.advanceTo('2026-06-01T09:05:00Z');
    scheduler.setSchedules(list({ d: daily9 }), lastFired('2026-05-31T09:00:00Z'));
    expect([fired, missed]).toEqual([[], []]);
  });
});

describe('Scheduler hot changes', () => {
  it('keeps the pending firing of an unchanged schedule: no double firing, no lost firing', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: { cron: '0 9 * * *', timezone: 'UTC' } }), new Map());
    clock.advanceTo('2026-06-01T08:59:59.999Z');
    scheduler.setSchedules(list({ d: { timezone: 'UTC', cron: '0 9 * * *' } }), new Map());
    clock.advanceTo('2026-06-01T09:00:00Z');
    scheduler.setSchedules(list({ d: { timezone: 'UTC', cron: '0 9 * * *' } }), new Map());
    clock.advanceTo('2026-06-01T12:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });

  it('re-plans a changed schedule from now', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.advanceTo('2026-06-01T08:30:00Z');
    scheduler.setSchedules(list({ d: { cron: '0 10 * * *' } }), new Map());
    clock.advanceTo('2026-06-01T23:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T10:00:00.000Z']);
  });

  it('does not re-fire a changed schedule for a time that has already passed', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.advanceTo('2026-06-01T09:30:00Z');
    scheduler.setSchedules(list({ d: { cron: '0 9 * * *', timezone: 'Europe/London' } }), new Map());
    clock.advanceTo('2026-06-01T23:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });

  it('drops removed schedules and plans added ones from now', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ gone: daily9, stays: daily9 }), new Map());
    scheduler.setSchedules(list({ stays: daily9, added: { cron: '30 8 * * *' } }), new Map());
    clock.advanceTo('2026-06-01T09:00:00Z');
    expect(fires()).toEqual(['added@2026-06-01T08:30:00.000Z', 'stays@2026-06-01T09:00:00.000Z']);
    expect(scheduler.size).toBe(2);
  });

  it('starts firing when a disabled schedule is enabled', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:00:00Z' });
    scheduler.setSchedules(list({ d: { ...daily9, enabled: false } }), new Map());
    scheduler.setSchedules(list({ d: { ...daily9, enabled: true } }), new Map());
    clock.advanceTo('2026-06-01T09:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });

  it('accepts a setSchedules call from inside onFire', () => {
    const clock = new ManualClock('2026-06-01T08:00:00Z');
    const seen: string[] = [];
    const scheduler: Scheduler = new Scheduler({
      clock,
      defaultZone: 'UTC',
      catchUpWindowMs: 0,
      onFire: (e) => {
        seen.push(`${e.schedule}@${e.scheduledFor.toISOString()}`);
        if (e.schedule === 'first')
          scheduler.setSchedules(list({ second: { cron: '0 10 * * *' } }), new Map());
      },
      onMissed: () => undefined,
    });
    scheduler.setSchedules(list({ first: daily9 }), new Map());
    clock.advanceTo('2026-06-02T12:00:00Z');
    expect(seen).toEqual([
      'first@2026-06-01T09:00:00.000Z',
      'second@2026-06-01T10:00:00.000Z',
      'second@2026-06-02T10:00:00.000Z',
    ]);
  });
});

/** A clock whose timers fire only when the test says, at whatever now() it has set: a stalled process. */
class StallClock implements Clock {
  current: number;
  timer: { at: number; fire: () => void } | null = null;
  constructor(start: string) {
    this.current = new Date(start).getTime();
  }
  now = () => new Date(this.current);
  setTimer(at: Date, fire: () => void) {
    const timer = { at: at.getTime(), fire };
    this.timer = timer;
    return () => {
      if (this.timer === timer) this.timer = null;
    };
  }
  stallUntil(iso: string) {
    this.current = new Date(iso).getTime();
    const timer = this.timer;
    this.timer = null;
    timer?.fire();
  }
}

describe('Scheduler after a stall or suspend while running', () => {
  it('fires a few-seconds-late firing normally, not as a catch-up, even with no catch-up window', () => {
    const clock = new StallClock('2026-06-01T08:00:00Z');
    const { scheduler, fires } = setup({ now: '', clock, catchUpWindowMs: 0 });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.stallUntil('2026-06-01T09:00:03Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });

  it('runs only the latest firing after hours suspended, reporting the others missed', () => {
    const clock = new StallClock('2026-06-01T00:30:00Z');
    const { scheduler, fires, misses } = setup({ now: '', clock, catchUpWindowMs: HOUR });
    scheduler.setSchedules(list({ d: hourly }), new Map());
    clock.stallUntil('2026-06-01T03:10:00Z');
    expect(fires()).toEqual(['d@2026-06-01T03:00:00.000Z catch-up']);
    expect(misses()).toEqual(['d@2026-06-01T01:00:00.000Z', 'd@2026-06-01T02:00:00.000Z']);
    expect(scheduler.nextFirings('d', 1)[0]!.toISOString()).toBe('2026-06-01T04:00:00.000Z');
  });

  it('reports a firing missed when the process wakes long after it and outside the window', () => {
    const clock = new StallClock('2026-06-01T08:00:00Z');
    const { scheduler, fired, misses } = setup({ now: '', clock, catchUpWindowMs: 10 * MIN });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.stallUntil('2026-06-01T11:00:00Z');
    expect(fired).toEqual([]);
    expect(misses()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });
});

describe('Scheduler after a wall-clock jump (suspend and resume, an NTP step)', () => {
  const at = (iso: string) => new Date(iso).getTime();

  it('never arms its timer more than WALL_CLOCK_CHECK_MS ahead, however far the next firing is', () => {
    const armed: number[] = [];
    const manual = new ManualClock('2026-06-01T08:00:00Z');
    const clock: Clock = {
      now: () => manual.now(),
      setTimer: (when, fire) => {
        armed.push(when.getTime() - manual.now().getTime());
        return manual.setTimer(when, fire);
      },
    };
    const { scheduler } = setup({ now: '', clock });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    manual.advanceBy(60_000);
    expect(armed.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...armed)).toBe(WALL_CLOCK_CHECK_MS);
  });

  it('after +75 s well before a firing, still fires it on time, not 75 s late', () => {
    const { clock, scheduler, fired, fires } = setup({ now: '2026-06-01T08:58:00Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T08:59:15Z');
    clock.advanceTo('2026-06-01T09:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    expect(fired[0]!.firedAt.toISOString()).toBe('2026-06-01T09:00:00.000Z');
  });

  it('after +75 s across a firing, fires it within 5 s, on time by the late tolerance', () => {
    const { clock, scheduler, fired, fires } = setup({ now: '2026-06-01T08:59:30Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T09:00:45Z');
    clock.advanceBy(5_000);
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    expect(fired[0]!.firedAt.getTime()).toBeLessThanOrEqual(at('2026-06-01T09:00:47Z'));
  });

  it('after +1 h across a firing, reports it missed within 5 s with a 15 min window, then fires the next on time', () => {
    const { clock, scheduler, fired, fires, misses } = setup({
      now: '2026-06-01T08:59:30Z',
      catchUpWindowMs: 15 * MIN,
    });
    scheduler.setSchedules(list({ d: hourly }), new Map());
    clock.jumpTo('2026-06-01T09:59:30Z');
    clock.advanceBy(5_000);
    expect(misses()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    expect(fired).toEqual([]);
    clock.advanceTo('2026-06-01T10:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T10:00:00.000Z']);
    expect(fired[0]!.firedAt.toISOString()).toBe('2026-06-01T10:00:00.000Z');
  });

  it('after +1 h across a firing, runs it once as a catch-up within 5 s when the window is 2 h', () => {
    const { clock, scheduler, fired, fires, misses } = setup({
      now: '2026-06-01T08:59:30Z',
      catchUpWindowMs: 2 * HOUR,
    });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T09:59:30Z');
    clock.advanceBy(5_000);
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z catch-up']);
    expect(fired[0]!.firedAt.getTime()).toBeLessThanOrEqual(at('2026-06-01T09:59:35Z'));
    expect(misses()).toEqual([]);
  });

  it('after +10 min across a firing, runs it as a catch-up within 5 s with the 15 min window', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:59:30Z', catchUpWindowMs: 15 * MIN });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T09:09:30Z');
    clock.advanceBy(5_000);
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z catch-up']);
  });

  it('after a backward jump, fires nothing twice and each later firing once', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:59:00Z' });
    scheduler.setSchedules(list({ d: hourly }), new Map());
    clock.advanceTo('2026-06-01T09:00:30Z');
    clock.jumpTo('2026-06-01T08:00:30Z');
    clock.advanceTo('2026-06-01T11:00:30Z');
    expect(fires()).toEqual([
      'd@2026-06-01T09:00:00.000Z',
      'd@2026-06-01T10:00:00.000Z',
      'd@2026-06-01T11:00:00.000Z',
    ]);
  });

  it('reports the jump with the wall time it expected and the one it found', () => {
    const clock = new ManualClock('2026-06-01T08:00:00Z');
    const jumps: string[] = [];
    const scheduler = new Scheduler({
      clock,
      defaultZone: 'UTC',
      catchUpWindowMs: 15 * MIN,
      onFire: () => undefined,
      onMissed: () => undefined,
      onClockJump: (e) => jumps.push(`${e.expected.toISOString()} -> ${e.actual.toISOString()}`),
    });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.advanceBy(10_000);
    expect(jumps).toEqual([]);
    clock.jumpTo('2026-06-01T08:30:10Z');
    clock.advanceBy(WALL_CLOCK_CHECK_MS);
    clock.jumpTo('2026-06-01T08:20:12Z');
    clock.advanceBy(WALL_CLOCK_CHECK_MS);
    expect(jumps).toEqual([
      '2026-06-01T08:00:12.000Z -> 2026-06-01T08:30:12.000Z',
      '2026-06-01T08:30:14.000Z -> 2026-06-01T08:20:14.000Z',
    ]);
    scheduler.stop();
  });
});

describe('Scheduler: a change at the due instant, before the timer ran', () => {
  it('keeps the due firing of a changed schedule: it fires once, and the new spec plans from there', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:59:59Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    // The wall clock reaches 09:00 but the timer has not run yet (a busy event loop, a small step).
    clock.jumpTo('2026-06-01T09:00:00Z');
    scheduler.setSchedules(list({ d: { cron: '0 10 * * *' } }), new Map());
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    clock.advanceTo('2026-06-01T12:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z', 'd@2026-06-01T10:00:00.000Z']);
  });

  it('fires the due firing once when the new spec has the same time, even with the change 300 ms late', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:59:59Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T09:00:00.300Z');
    scheduler.setSchedules(list({ d: { ...daily9, timezone: 'UTC' } }), new Map());
    clock.advanceTo('2026-06-02T08:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });

  it('fires an unchanged schedule re-sent at its due instant once, from its timer', () => {
    const { clock, scheduler, fires } = setup({ now: '2026-06-01T08:59:59Z' });
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    clock.jumpTo('2026-06-01T09:00:00Z');
    scheduler.setSchedules(list({ d: daily9 }), new Map());
    expect(fires()).toEqual([]);
    clock.advanceBy(WALL_CLOCK_CHECK_MS);
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
    clock.advanceTo('2026-06-02T08:00:00Z');
    expect(fires()).toEqual(['d@2026-06-01T09:00:00.000Z']);
  });
});
