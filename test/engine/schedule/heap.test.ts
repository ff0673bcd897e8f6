import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../src/engine/schedule/heap.js';

const item = (key: number) => ({ key, heapIndex: -1 });

describe('MinHeap', () => {
  it('pops items in key order after random pushes, updates and removals', () => {
    const heap = new MinHeap<{ key: number; heapIndex: number }>();
    const items = Array.from({ length: 500 }, (_, i) => item((i * 7919) % 1000));
    for (const it of items) heap.push(it);
    for (const it of items.slice(0, 100)) heap.remove(it);
    for (const it of items.slice(100, 200)) {
      it.key = 1000 - it.key;
      heap.update(it);
    }
    const expected = items
      .slice(100)
      .map((i) => i.key)
      .sort((a, b) => a - b);
    const popped: number[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) popped.push(top.key);
    expect(popped).toEqual(expected);
    expect(items.every((i) => i.heapIndex === -1)).toBe(true);
  });

  it('ignores removing an item it does not hold', () => {
    const heap = new MinHeap<{ key: number; heapIndex: number }>();
    heap.push(item(1));
    heap.remove(item(2));
    expect(heap.size).toBe(1);
  });
});
