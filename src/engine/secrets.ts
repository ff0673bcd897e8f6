import fs from 'node:fs';
import { describeSecretRef, type SecretPolicy } from '../manifest/secret-policy.js';
import { findSecretRefs } from '../manifest/secret-references.js';
import type { SecretRef } from '../manifest/types.js';

export { describeSecretRef };

/** A secret reference that cannot be resolved. Names the reference, never a value. */
export class SecretError extends Error {
  constructor(
    readonly ref: SecretRef,
    reason: string,
  ) {
    super(`secret ${describeSecretRef(ref)} ${reason}`);
    this.name = 'SecretError';
  }
}

export type ReadFile = (path: string, encoding: 'utf8') => string;

/**
 * The first secret reference in a spec that the allowlist refuses, as an error naming it; checked
 * before any secret is read, so a store written by hand or by another version cannot get around it.
 */
export function refusedSecret(spec: unknown, policy: SecretPolicy): SecretError | null {
  for (const { ref } of findSecretRefs(spec)) {
    const refusal = policy.refusal(ref);
    if (refusal) return new SecretError(ref as SecretRef, refusal);
  }
  return null;
}

/**
 * Reads a secret at execution time: an environment variable, or a file with one trailing newline
 * trimmed (what `echo x > file` and most secret mounts leave). Missing, empty or unreadable is an error.
 */
export function resolveSecret(
  ref: SecretRef,
  env: NodeJS.ProcessEnv = process.env,
  readFile: ReadFile = fs.readFileSync,
): string {
  if (ref.env !== undefined && ref.file !== undefined) {
    throw new SecretError(ref, 'names both env and file: give exactly one');
  }
  if (ref.env !== undefined) {
    const value = env[ref.env];
    if (value === undefined) throw new SecretError(ref, 'is not set in the engine environment');
    if (value === '') throw new SecretError(ref, 'is empty in the engine environment');
    return value;
  }
  if (ref.file !== undefined) {
    let content: string;
    try {
      content = readFile(ref.file, 'utf8');
    } catch (err) {
      // Only the error code: an fs message is harmless, but a custom reader's might quote content.
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new SecretError(ref, `cannot be read (${code})`);
    }
    const value = content.replace(/\r?\n$/, '');
    if (value === '') throw new SecretError(ref, 'is an empty file');
    return value;
  }
  throw new SecretError(ref, 'names neither env nor file');
}
