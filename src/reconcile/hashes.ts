import type { LoadedManifest } from '../manifest/types.js';
import { contentHash } from '../store/hash.js';

/** Desired manifests are never changed once loaded: each one's content hash is computed once. */
const known = new WeakMap<LoadedManifest, string>();

/** The content hash of a desired manifest, as the store keeps it (contentHash of its metadata and spec). */
export function manifestHash(m: LoadedManifest): string {
  let hash = known.get(m);
  if (hash === undefined) {
    hash = contentHash(m.metadata, m.spec);
    known.set(m, hash);
  }
  return hash;
}

/** A hash kept with a manifest (the validated revision cache): a restart does not hash 100,000 specs again. */
export function rememberHash(m: LoadedManifest, hash: string): void {
  known.set(m, hash);
}
