import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/engine/runs/deque.js';

describe('Deque (the run queue line)', () => {
  it('takes items in the order they came, across growth and wrap-around', () => {
    const line = new Deque<number>();
    const model: number[] = [];
    let next = 0;
    // Interleaved pushes and shifts: the head wraps past the end of the buffer many times, and it grows.
    for (let step = 0; step < 5000; step++) {
      const pushes = (step * 7) % 5;
      for (let i = 0; i < pushes; i++) {
        line.push(next);
        model.push(next++);
      }
      const shifts = (step * 3) % 4;
      for (let i = 0; i < shifts; i++) expect(line.shift()).toBe(model.shift());
      expect(line.length).toBe(model.length);
    }
    while (model.length > 0) expect(line.shift()).toBe(model.shift());
    expect(line.shift()).toBeUndefined();
    expect(line.length).toBe(0);
  });

  it('drains 200,000 items in the order they were pushed', () => {
    const line = new Deque<{ n: number }>();
    for (let n = 0; n < 200_000; n++) line.push({ n });
    const outOfOrder: number[] = [];
    for (let n = 0; n < 200_000; n++) if (line.shift()!.n !== n) outOfOrder.push(n);
    expect(outOfOrder).toEqual([]);
    expect(line.length).toBe(0);
  });
});
