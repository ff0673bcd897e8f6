import { describe, expect, it } from 'vitest';
import { StringTable } from '../../src/manifest/string-table.js';

describe('StringTable', () => {
  it('changes no value: nested objects and lists, numbers, nulls, long and short strings', () => {
    const make = () => ({
      apiVersion: 'taskops/v1',
      kind: 'Schedule',
      spec: {
        timezone: 'Europe/Berlin',
        repeat: { unit: 'weeks', on: ['friday', 'friday', 'last', 3], at: '18:00', every: 1 },
        note: 'x'.repeat(200),
        nothing: null,
        nested: [[['deep']]],
      },
    });
    const table = new StringTable();
    const values = Array.from({ length: 3 }, make);
    for (const v of values) table.share(v);
    for (const v of values) expect(v).toStrictEqual(make());
  });

  it('keeps an own "__proto__" key a plain property and never sets a prototype', () => {
    const value = JSON.parse('{"spec": {"__proto__": {"polluted": "yes"}, "a": "b"}}') as {
      spec: Record<string, unknown>;
    };
    new StringTable().share(value);
    expect(Object.getPrototypeOf(value.spec)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(value.spec)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
