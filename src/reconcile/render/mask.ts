import { isPlainObject, isSecretRefKey } from '../fields.js';

/** A secret reference as plans show it (`env:SLACK_TOKEN`, `file:/run/secrets/pw`): never the secret itself. */
export class SecretReference {
  constructor(readonly ref: string) {}
  toJSON(): string {
    return this.ref;
  }
}

/** Literal values under such keys are never printed, should one ever get past validation. */
const SENSITIVE_KEY = /(password|passwd|secret|token|api[-_]?key|credential|private[-_]?key)/i;
export const HIDDEN = '(sensitive value hidden)';

function reference(value: unknown): SecretReference {
  if (isPlainObject(value)) {
    if (typeof value.env === 'string') return new SecretReference(`env:${value.env}`);
    if (typeof value.file === 'string') return new SecretReference(`file:${value.file}`);
  }
  return new SecretReference('(secret reference)');
}

/** A copy of `value` (found under `key`) safe to print: secret references as references, literals hidden. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (value === undefined || value === null) return value;
  if (key !== '' && isSecretRefKey(key)) return reference(value);
  if (typeof value === 'string') return key !== '' && SENSITIVE_KEY.test(key) ? HIDDEN : value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = maskSecrets(value[k], k);
    return out;
  }
  return value;
}

/** The last key of a plan path (`spec.auth.tokenFrom` → `tokenFrom`, `x["a b"]` → `a b`, `a.tokens[2]` → `tokens`). */
export function lastKey(path: string): string {
  // A list member is masked as its list is.
  const member = /\[\d+\]$/.exec(path);
  if (member) return lastKey(path.slice(0, member.index));
  const bracket = /\[("(?:[^"\\]|\\.)*")\]$/.exec(path);
  if (bracket?.[1]) return JSON.parse(bracket[1]) as string;
  const dot = path.lastIndexOf('.');
  return dot === -1 ? path : path.slice(dot + 1);
}

export const maskAt = (path: string, value: unknown): unknown => maskSecrets(value, lastKey(path));
