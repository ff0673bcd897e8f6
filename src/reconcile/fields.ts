import { isDeepStrictEqual } from 'node:util';
import { diffArrays } from 'diff';
import type { FieldChange } from './plan.js';

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** `*From` members hold secret references: compared and shown as one value, never split into env/file. */
export const isSecretRefKey = (key: string): boolean => key.endsWith('From') && key.length > 4;

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function joinPath(base: string, key: string): string {
  if (!SIMPLE_KEY.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Leaf-level differences between two JSON values, keys in sorted order; arrays member by member. */
export function fieldChanges(before: unknown, after: unknown, path: string): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const out: FieldChange[] = [];
    for (const key of keys) {
      const b = before[key];
      const a = after[key];
      if (isSecretRefKey(key)) {
        if (!isDeepStrictEqual(b, a)) out.push({ path: joinPath(path, key), before: b, after: a });
      } else out.push(...fieldChanges(b, a, joinPath(path, key)));
    }
    return out;
  }
  if (isDeepStrictEqual(before, after)) return [];
  if (Array.isArray(before) && Array.isArray(after)) return memberChanges(before, after, path);
  // An empty object on one side and nothing on the other means the same.
  if (isEmpty(before) && isEmpty(after)) return [];
  return [{ path, before, after }];
}

/**
 * Members removed from and added to a list, each at its index on its own side (`spec.members[2]`), so
 * one new tag member is one line rather than both whole lists.
 */
function memberChanges(before: unknown[], after: unknown[], path: string): FieldChange[] {
  const out: FieldChange[] = [];
  let i = 0;
  let j = 0;
  for (const part of diffArrays(before, after, { comparator: isDeepStrictEqual })) {
    for (const value of part.value) {
      if (part.removed) out.push({ path: `${path}[${i++}]`, before: value, after: undefined });
      else if (part.added) out.push({ path: `${path}[${j++}]`, before: undefined, after: value });
      else {
        i++;
        j++;
      }
    }
  }
  return out;
}

/** Every leaf of one value, as changes from or to nothing (a create lists `after`, a delete `before`). */
export function leaves(value: unknown, path: string, side: 'before' | 'after'): FieldChange[] {
  const change = (p: string, v: unknown): FieldChange =>
    side === 'after' ? { path: p, before: undefined, after: v } : { path: p, before: v, after: undefined };
  if (value === undefined) return [];
  if (!isPlainObject(value)) return [change(path, value)];
  const out: FieldChange[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    if (v === undefined) continue;
    const p = joinPath(path, key);
    if (isSecretRefKey(key)) out.push(change(p, v));
    else out.push(...leaves(v, p, side));
  }
  return out;
}

const isEmpty = (v: unknown): boolean => v === undefined || (isPlainObject(v) && Object.keys(v).length === 0);
