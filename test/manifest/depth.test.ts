import { describe, expect, it } from 'vitest';
import { jsonDepthExcess, valueDepthExceeds } from '../../src/manifest/depth.js';

const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('nesting limits', () => {
  it('accepts JSON text at the limit and points at the first bracket past it', () => {
    expect(jsonDepthExcess(nested(32), 32)).toBe(-1);
    expect(jsonDepthExcess(nested(33), 32)).toBe(32);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExcess(JSON.stringify({ a: '[[[[\\"[[[[' }), 2)).toBe(-1);
  });

  it('scans a 30,000-deep document without overflowing the stack', () => {
    expect(jsonDepthExcess(nested(30_000))).toBe(32);
    const deep = JSON.parse(nested(30_000)) as unknown;
    expect(valueDepthExceeds(deep)).toBe(true);
  });

  it('measures parsed values: objects and arrays both count, scalars do not', () => {
    expect(valueDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(valueDepthExceeds({ a: [{ b: [] }] }, 3)).toBe(true);
    expect(valueDepthExceeds('[[[', 1)).toBe(false);
  });
});
