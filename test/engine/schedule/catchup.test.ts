import { describe, expect, it } from 'vitest';
import { LATE_TOLERANCE_MS, decideDue } from '../../../src/engine/schedule/catchup.js';

const MIN = 60_000;
const opts = { catchUpWindowMs: 10 * MIN, missedReportCap: 3 };

describe('decideDue', () => {
  it('runs a single on-time firing normally while running', () => {
    expect(decideDue([1000], 1005, { ...opts, startup: false })).toEqual({
      run: { at: 1000, catchUp: false },
      missed: [],
    });
  });

  it('runs the most recent firing as a catch-up at start-up when it is inside the window', () => {
    expect(decideDue([0, MIN, 2 * MIN], 7 * MIN, { ...opts, startup: true })).toEqual({
      run: { at: 2 * MIN, catchUp: true },
      missed: [0, MIN],
    });
  });

  it('runs nothing at start-up when the most recent firing is older than the window', () => {
    expect(decideDue([0], 11 * MIN, { ...opts, startup: true })).toEqual({ run: null, missed: [0] });
  });

  it('reports at most the cap, keeping the most recent', () => {
    expect(decideDue([1, 2, 3, 4, 5], 11 * MIN, { ...opts, startup: true }).missed).toEqual([3, 4, 5]);
  });

  it('still runs a firing a little late while running even with no catch-up window', () => {
    const decision = decideDue([0], LATE_TOLERANCE_MS, {
      catchUpWindowMs: 0,
      missedReportCap: 3,
      startup: false,
    });
    expect(decision.run).toEqual({ at: 0, catchUp: false });
  });

  it('treats a running engine that slept past the tolerance like downtime', () => {
    const decision = decideDue([0], LATE_TOLERANCE_MS + 1, {
      catchUpWindowMs: 0,
      missedReportCap: 3,
      startup: false,
    });
    expect(decision).toEqual({ run: null, missed: [0] });
  });
});
