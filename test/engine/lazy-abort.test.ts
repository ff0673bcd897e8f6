import { describe, expect, it } from 'vitest';
import { LazyAbortController } from '../../src/engine/runs/abort.js';

describe('LazyAbortController', () => {
  it('aborts a signal asked for before the abort, with its reason, once', () => {
    const c = new LazyAbortController();
    const signal = c.signal;
    const seen: unknown[] = [];
    signal.addEventListener('abort', () => seen.push(signal.reason));
    const first = new Error('timed out');
    c.abort(first);
    c.abort(new Error('second'));
    expect(signal.aborted).toBe(true);
    expect(seen).toEqual([first]);
    expect(c.reason).toBe(first);
    expect(c.signal).toBe(signal);
  });

  it('answers aborted and reason without a signal, and gives an aborted one when asked after', () => {
    const c = new LazyAbortController();
    expect(c.aborted).toBe(false);
    expect(c.reason).toBeUndefined();
    const why = new Error('replaced');
    c.abort(why);
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe(why);
    expect(c.signal.aborted).toBe(true);
    expect(c.signal.reason).toBe(why);
  });

  it('gives an AbortError when aborted without a reason, as AbortController does', () => {
    const lazy = new LazyAbortController();
    const real = new AbortController();
    lazy.abort();
    real.abort();
    expect((lazy.reason as DOMException).name).toBe((real.signal.reason as DOMException).name);
    expect(lazy.signal.reason).toBe(lazy.reason);
  });
});
