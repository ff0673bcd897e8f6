import { describe, expect, it } from 'vitest';
import { ClockTimers } from '../../src/engine/runs/timers.js';
import { ManualClock } from '../../src/engine/schedule/clock.js';

const at = (clock: ManualClock, ms: number) => new Date(clock.now().getTime() + ms);

describe('ClockTimers', () => {
  it('fires due deadlines in time order, ties in the order they were set, each once', () => {
    const clock = new ManualClock();
    const timers = new ClockTimers(clock);
    const fired: string[] = [];
    timers.at(at(clock, 300), () => fired.push('c'));
    timers.at(at(clock, 100), () => fired.push('a1'));
    timers.at(at(clock, 100), () => fired.push('a2'));
    timers.at(at(clock, 200), () => fired.push('b'));
    clock.advanceBy(250);
    expect(fired).toEqual(['a1', 'a2', 'b']);
    expect(timers.size).toBe(1);
    clock.advanceBy(1000);
    expect(fired).toEqual(['a1', 'a2', 'b', 'c']);
    expect(timers.size).toBe(0);
  });

  it('cancels any entry, first, middle or last, and the others still fire', () => {
    const clock = new ManualClock();
    const timers = new ClockTimers(clock);
    const fired: number[] = [];
    const cancels = [1, 2, 3, 4, 5].map((n) => timers.at(at(clock, n * 10), () => fired.push(n)));
    cancels[2]!();
    cancels[0]!();
    cancels[4]!();
    // Twice is harmless, and cancelling after a swap does not remove another entry.
    cancels[2]!();
    expect(timers.size).toBe(2);
    clock.advanceBy(100);
    expect(fired).toEqual([2, 4]);
    // Cancelling one that already fired changes nothing.
    cancels[1]!();
    expect(timers.size).toBe(0);
  });

  it('re-arms for what is left when the earliest is cancelled, and clear() drops everything', () => {
    const clock = new ManualClock();
    const timers = new ClockTimers(clock);
    const fired: string[] = [];
    const early = timers.at(at(clock, 10), () => fired.push('early'));
    timers.at(at(clock, 50), () => fired.push('late'));
    early();
    clock.advanceBy(20);
    expect(fired).toEqual([]);
    clock.advanceBy(40);
    expect(fired).toEqual(['late']);
    const gone = timers.at(at(clock, 10), () => fired.push('gone'));
    timers.clear();
    gone();
    clock.advanceBy(100);
    expect(fired).toEqual(['late']);
    expect(timers.size).toBe(0);
  });

  it('keeps a deadline set while others fire', () => {
    const clock = new ManualClock();
    const timers = new ClockTimers(clock);
    const fired: string[] = [];
    timers.at(at(clock, 10), () => {
      fired.push('first');
      timers.at(at(clock, 5), () => fired.push('chained'));
    });
    clock.advanceBy(10);
    clock.advanceBy(5);
    expect(fired).toEqual(['first', 'chained']);
  });
});
