import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, Scheduler, systemClock, type FireEvent } from '../../../src/engine/schedule/index.js';

describe('ManualClock', () => {
  it('fires due timers in time order, with now() at each timer time', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const seen: string[] = [];
    clock.setTimer(new Date('2026-01-01T00:00:03Z'), () => seen.push(`b@${clock.now().toISOString()}`));
    clock.setTimer(new Date('2026-01-01T00:00:01Z'), () => seen.push(`a@${clock.now().toISOString()}`));
    clock.setTimer(new Date('2026-01-01T00:00:09Z'), () => seen.push('late'));
    clock.advanceBy(5000);
    expect(seen).toEqual(['a@2026-01-01T00:00:01.000Z', 'b@2026-01-01T00:00:03.000Z']);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:05.000Z');
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers set by a firing timer when they are due within the same advance', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimer(new Date(1000), () => {
      seen.push(clock.now().getTime());
      clock.setTimer(new Date(1500), () => seen.push(clock.now().getTime()));
    });
    clock.advanceTo(2000);
    expect(seen).toEqual([1000, 1500]);
  });

  it('does not fire a cancelled timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const cancel = clock.setTimer(new Date(10), () => (fired = true));
    cancel();
    clock.advanceBy(100);
    expect(fired).toBe(false);
  });

  it('fires a timer set in the past on the next advance, even by 0 ms', () => {
    const clock = new ManualClock(5000);
    let fired = false;
    clock.setTimer(new Date(1000), () => (fired = true));
    expect(fired).toBe(false);
    clock.advanceBy(0);
    expect(fired).toBe(true);
  });

  it('refuses to go back in time', () => {
    const clock = new ManualClock(5000);
    expect(() => clock.advanceTo(1000)).toThrow('cannot go back in time');
  });

  it('jumps the wall clock forward without firing anything: timers fire late by the jump, like setTimeout', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const seen: string[] = [];
    clock.setTimer(new Date('2026-01-01T00:00:10Z'), () => seen.push(clock.now().toISOString()));
    clock.jumpTo('2026-01-01T01:00:00Z');
    expect(seen).toEqual([]);
    expect(clock.now().toISOString()).toBe('2026-01-01T01:00:00.000Z');
    clock.advanceBy(9_999);
    expect(seen).toEqual([]);
    clock.advanceBy(1);
    expect(seen).toEqual(['2026-01-01T01:00:10.000Z']);
  });

  it('jumps the wall clock back: timers still fire after their remaining elapsed time', () => {
    const clock = new ManualClock('2026-01-01T01:00:00Z');
    const seen: string[] = [];
    clock.setTimer(new Date('2026-01-01T01:00:10Z'), () => seen.push(clock.now().toISOString()));
    clock.jumpTo('2026-01-01T00:00:00Z');
    clock.advanceTo('2026-01-01T00:00:10Z');
    expect(seen).toEqual(['2026-01-01T00:00:10.000Z']);
    expect(() => clock.advanceTo('2025-12-31T23:00:00Z')).toThrow('cannot go back in time');
  });
});

describe('systemClock (real time, node-schedule timers)', () => {
  let scheduler: Scheduler | undefined;
  afterEach(() => scheduler?.stop());

  it('fires a once schedule 1.5 s ahead within 1 s of its time', async () => {
    const at = new Date(Date.now() + 1500);
    const fired = new Promise<FireEvent>((resolve) => {
      scheduler = new Scheduler({
        clock: systemClock,
        defaultZone: 'UTC',
        catchUpWindowMs: 0,
        onFire: resolve,
        onMissed: () => undefined,
      });
      scheduler.setSchedules([{ name: 'soon', spec: { once: at.toISOString() } }], new Map());
    });
    const event = await fired;
    const firedAt = Date.now();
    expect(event.schedule).toBe('soon');
    expect(event.scheduledFor).toEqual(at);
    expect(event.catchUp).toBe(false);
    expect(firedAt).toBeGreaterThanOrEqual(at.getTime());
    expect(firedAt - at.getTime()).toBeLessThan(1000);
  });
});

describe('systemClock timers past the limit of setTimeout (node-schedule’s long timeouts, fake timers)', () => {
  afterEach(() => vi.useRealTimers());

  it('waits 30 days for a timer 30 days ahead, in steps, instead of firing at once', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const fired: string[] = [];
    systemClock.setTimer(new Date('2026-01-31T00:00:00Z'), () => fired.push(new Date().toISOString()));
    vi.advanceTimersByTime(29 * 86_400_000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(86_400_000);
    expect(fired).toEqual(['2026-01-31T00:00:00.000Z']);
  });

  it('fires a past timer on the next turn, and a cancelled one never', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const fired: string[] = [];
    systemClock.setTimer(new Date('2025-12-31T00:00:00Z'), () => fired.push('past'));
    const cancel = systemClock.setTimer(new Date('2026-03-01T00:00:00Z'), () => fired.push('cancelled'));
    vi.advanceTimersByTime(25 * 86_400_000);
    cancel();
    vi.advanceTimersByTime(60 * 86_400_000);
    expect(fired).toEqual(['past']);
  });
});
