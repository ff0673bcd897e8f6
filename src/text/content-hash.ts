import { createHash } from 'node:crypto';

/** JSON with object keys sorted and undefined members dropped: equal meaning, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Concatenation, not arrays joined, and no sort of keys already in order: this runs for every manifest read.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : canonicalJson(v)}`;
    }
    return `${out}]`;
  }
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/**
 * The content hash of an object: sha256 of the canonical JSON of its description, labels and spec.
 * The name is the key, not content; empty labels count as no labels (the schema defaults them to {}).
 * A leaf of its own so manifest check threads can hash what they read, and the store what it keeps.
 */
export function contentHash(
  metadata: { name: string; description?: string | undefined; labels?: Record<string, string> | undefined },
  spec: unknown,
): string {
  const labels = metadata.labels && Object.keys(metadata.labels).length > 0 ? metadata.labels : undefined;
  const content = { description: metadata.description, labels, spec };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
