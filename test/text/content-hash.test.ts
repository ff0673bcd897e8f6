import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/text/content-hash.js';
import { seededRandom } from '../helpers/seeded.js';

/** The definition, written the plain way: keys sorted, undefined members dropped, undefined items null. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const parts = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
  return `{${parts.join(',')}}`;
}

const KEYS = ['a', 'b', 'B', 'z', 'aa', '', 'é', '\u{1F600}', 'x"y', '10', '9', '__proto__'];
const LEAVES: unknown[] = [0, -0, 1.5, Infinity, NaN, 'text', '', 'q"\\', true, false, null, undefined];

function value(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.4) return LEAVES[Math.floor(next() * LEAVES.length)];
  if (pick < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--)
    Object.defineProperty(o, KEYS[Math.floor(next() * KEYS.length)]!, {
      value: value(next, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return o;
}

describe('canonicalJson', () => {
  it('is the same text for the same meaning, whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,null]},"b":1}',
    );
    expect(canonicalJson({ a: { c: 'x', d: [1, null] }, b: 1, e: undefined })).toBe(
      canonicalJson({ b: 1, a: { d: [1, undefined], c: 'x' } }),
    );
    expect(contentHash({ name: 'x', labels: {} }, { b: 1, a: 2 })).toBe(
      contentHash({ name: 'y' }, { a: 2, b: 1 }),
    );
  });

  it('answers as the plain definition does for 5,000 generated values', () => {
    for (let seed = 1; seed <= 5_000; seed++) {
      const v = value(seededRandom(seed), 0);
      expect(canonicalJson(v), `seed ${seed}`).toBe(reference(v));
    }
  });
});
