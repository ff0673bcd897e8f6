import { storedHashOf } from '../manifest/stored-form.js';
import type { LoadedManifest } from '../manifest/types.js';
import { contentHash } from '../store/hash.js';

/**
 * Desired manifests are never changed once loaded: each one's content hash is computed once and kept on it,
 * under a symbol no copy, clone, JSON or comparison of the manifest sees. (A WeakMap of 110,000 manifests
 * cost a tenth of a second to fill and an ephemeron table for every full collection to walk.)
 */
const HASH = Symbol('content hash');
type Hashed = LoadedManifest & { [HASH]?: string };

/** The content hash of a desired manifest, as the store keeps it (contentHash of its metadata and spec). */
export function manifestHash(m: LoadedManifest): string {
  return (m as Hashed)[HASH] ?? storedHashOf(m) ?? rememberHash(m, contentHash(m.metadata, m.spec));
}

/** Keeps a hash made elsewhere with its manifest (the validated revision cache's; a check thread's is in its stored form). */
export function rememberHash(m: LoadedManifest, hash: string): string {
  Object.defineProperty(m, HASH, { value: hash, enumerable: false, configurable: true });
  return hash;
}
