import type { ReferenceCheck, ReferenceFinding } from './references.js';
import type { Path } from './schema-errors.js';
import { describeSecretRef, type SecretPolicy } from './secret-policy.js';
import { specTextOf } from './stored-form.js';
import type { LoadedManifest } from './types.js';

export interface FoundSecretRef {
  /** Where the reference stands: the `*From` field. */
  path: Path;
  ref: unknown;
}

/** urlFrom, tokenFrom, valueFrom, passwordFrom, signingSecretFrom, and any `*From` a later kind adds. */
const REFERENCE_FIELD = /.From$/;
/** Data delivered to receivers or matched against events: a `*From` there is text, never read. */
const DATA_FIELDS = new Set(['payload', 'where']);

/** A path as a chain of segments back to the root: a step deeper costs one link, not a copy. */
interface PathLink {
  key: string | number;
  parent: PathLink | null;
}

function toPath(prefix: Path, link: PathLink | null): Path {
  const segments: Path = [];
  for (let at = link; at; at = at.parent) segments.push(at.key);
  return [...prefix, ...segments.reverse()];
}

/**
 * Every secret reference in a spec, in document order. An explicit stack, never recursion: a spec
 * from a store written by hand has not been through the nesting limit.
 */
export function findSecretRefs(spec: unknown, prefix: Path = ['spec']): FoundSecretRef[] {
  const found: FoundSecretRef[] = [];
  // A reference is a stack entry too, so that it comes off the stack in document order.
  const stack: Array<{ value: unknown; at: PathLink | null; isRef: boolean }> = [
    { value: spec, at: null, isRef: false },
  ];
  while (stack.length > 0) {
    const { value: node, at, isRef } = stack.pop()!;
    if (isRef) {
      found.push({ path: toPath(prefix, at), ref: node });
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const entries: Array<[string | number, unknown]> = Array.isArray(node)
      ? node.map((v, i) => [i, v])
      : Object.entries(node);
    for (let k = entries.length - 1; k >= 0; k--) {
      const [key, value] = entries[k]!;
      const link = { key, parent: at };
      if (typeof key === 'string' && REFERENCE_FIELD.test(key)) {
        // A list of references (signingSecretFrom during a rotation): each one is a reference of its own.
        if (Array.isArray(value))
          for (let i = value.length - 1; i >= 0; i--)
            stack.push({ value: value[i], at: { key: i, parent: link }, isRef: true });
        else stack.push({ value, at: link, isRef: true });
      } else if (typeof key === 'string' && DATA_FIELDS.has(key)) continue;
      else if (value && typeof value === 'object') stack.push({ value, at: link, isRef: false });
    }
  }
  return found;
}

/**
 * Checks every secret reference of the manifests against the engine's allowlist. Without a policy
 * (no engine config, as in a pull request's CI) each reference is noted as unchecked, not an error.
 */
export function checkSecretReferences(
  manifests: readonly LoadedManifest[],
  policy: SecretPolicy | undefined,
): ReferenceCheck {
  const errors: ReferenceFinding[] = [];
  const unchecked: ReferenceFinding[] = [];
  for (const manifest of manifests) {
    // A `*From` key ends `From"` in JSON: a spec whose text has none holds no reference, and stays unread.
    if (specTextOf(manifest)?.includes('From"') === false) continue;
    for (const { path, ref } of findSecretRefs(manifest.spec)) {
      const at = pointAt(path, ref);
      const name = describeSecretRef(ref);
      if (!policy) {
        unchecked.push({
          manifest,
          path: at,
          message: `${name} unchecked without an engine config (--config): the engine's secrets allowlist decides whether it may be read`,
        });
        continue;
      }
      const refusal = policy.refusal(ref);
      if (refusal) errors.push({ manifest, path: at, message: `${name} ${refusal}` });
    }
  }
  return { errors, unchecked };
}

/** The `env` or `file` value when there is exactly one, so the error points at the name to change. */
function pointAt(path: Path, ref: unknown): Path {
  if (!ref || typeof ref !== 'object') return path;
  const keys = Object.keys(ref).filter((k) => k === 'env' || k === 'file');
  return keys.length === 1 ? [...path, keys[0]!] : path;
}
