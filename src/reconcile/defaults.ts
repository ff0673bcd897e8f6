import { isDeepStrictEqual } from 'node:util';
import { SCHEMAS } from '../manifest/index.js';
import type { Kind } from '../manifest/types.js';
import { isPlainObject, isSecretRefKey, joinPath } from './fields.js';
import type { FieldChange } from './plan.js';

const byKind = new Map<Kind, Map<string, unknown>>();

/** The schema's defaults of one kind by plan path (`spec.concurrency` → `forbid`): what the loader fills in. */
export function schemaDefaults(kind: Kind): Map<string, unknown> {
  let found = byKind.get(kind);
  if (!found) {
    found = new Map();
    collect(SCHEMAS[kind], 'spec', found);
    byKind.set(kind, found);
  }
  return found;
}

function collect(schema: unknown, path: string, into: Map<string, unknown>): void {
  if (!isPlainObject(schema) || !isPlainObject(schema.properties)) return;
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!isPlainObject(property)) continue;
    const p = joinPath(path, key);
    if ('default' in property) into.set(p, property.default);
    collect(property, p, into);
  }
}

export interface CreateFields {
  /** What the manifest says: every leaf not at its schema default. */
  shown: FieldChange[];
  /** Leaves (or whole structures) left at their default, for one folded line. */
  defaults: FieldChange[];
}

/** The leaves of a created object's spec, split into those the manifest sets and those at their default. */
export function createFields(kind: Kind, spec: unknown): CreateFields {
  const defaults = schemaDefaults(kind);
  const out: CreateFields = { shown: [], defaults: [] };
  const visit = (value: unknown, path: string) => {
    if (value === undefined) return;
    if (defaults.has(path) && isDeepStrictEqual(value, defaults.get(path))) {
      out.defaults.push({ path, before: undefined, after: value });
      return;
    }
    if (!isPlainObject(value)) {
      out.shown.push({ path, before: undefined, after: value });
      return;
    }
    for (const key of Object.keys(value).sort()) {
      const p = joinPath(path, key);
      if (isSecretRefKey(key)) {
        if (value[key] !== undefined) out.shown.push({ path: p, before: undefined, after: value[key] });
      } else visit(value[key], p);
    }
  };
  visit(spec, 'spec');
  return out;
}
