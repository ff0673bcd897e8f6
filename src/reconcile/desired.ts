import { join, relative } from 'node:path';
import {
  loadDesiredState,
  ManifestError,
  type DriverCatalog,
  type ManifestProblem,
  type SecretPolicy,
} from '../manifest/index.js';
import type { DesiredState } from '../manifest/types.js';
import { contentHash } from '../store/hash.js';
import type { LiveObject } from '../store/types.js';
import {
  textDigest,
  type DesiredIndex,
  type FileDigest,
  type ValidatedRevisionCache,
} from './validated-cache.js';

export interface LoadDesiredOptions {
  revision: string;
  driverCatalog?: DriverCatalog;
  /** The engine's secrets allowlist; without it secret references are only noted. */
  secretPolicy?: SecretPolicy;
  defaultZone?: string;
  /** "In the past" for the validation warnings the plan carries. */
  now?: Date;
  /**
   * How files are named in problems: the manifest root shown as this path (`manifests` for a repo's
   * subfolder) instead of the temp dir or cache it was read from.
   */
  displayRoot?: string;
  /** The last valid state by content hash: an unchanged revision is not validated again (serve's restarts). */
  cache?: ValidatedRevisionCache;
  /** Called once the loader's check threads have started (a large set; see loadManifests). */
  onCheckThreadsStarted?: () => void;
}

/** The valid desired state below `root`, or a ManifestError listing every problem (nothing may be applied). */
export async function loadDesired(root: string, opts: LoadDesiredOptions): Promise<DesiredState> {
  const { cache } = opts;
  if (cache && opts.now && cache.canHit('state')) {
    const cached = cache.read(
      cache.key(root, await cache.digestFiles(root), opts),
      root,
      opts.revision,
      opts.now,
    );
    if (cached) return cached;
  }
  const validated: FileDigest[] = [];
  const result = await loadDesiredState(root, {
    revision: opts.revision,
    ...(opts.driverCatalog ? { driverCatalog: opts.driverCatalog } : {}),
    ...(opts.secretPolicy ? { secretPolicy: opts.secretPolicy } : {}),
    ...(opts.defaultZone ? { defaultZone: opts.defaultZone } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onCheckThreadsStarted ? { onCheckThreadsStarted: opts.onCheckThreadsStarted } : {}),
    // Keyed on the texts validated, not re-read after: a file edited meanwhile cannot pair its new text with the old key.
    ...(cache ? { onFileRead: (file, text) => validated.push({ file, sha256: textDigest(text) }) } : {}),
  });
  if (result.state && result.problems.length === 0) {
    cache?.write(cache.key(root, validated, opts), result.state, opts);
    return result.state;
  }
  const display = opts.displayRoot;
  throw new ManifestError(
    display === undefined ? result.problems : result.problems.map((p) => relabelProblem(p, root, display)),
  );
}

/**
 * The last valid state's index (identity, hash and place of each object; no content) when the cache holds
 * this revision's files under the same inputs, else null. Serve's sync tries it first: a restart on an
 * unchanged revision then compares hashes without reading every spec back.
 */
export async function loadDesiredIndex(root: string, opts: LoadDesiredOptions): Promise<DesiredIndex | null> {
  const { cache, now } = opts;
  if (!cache || !now || !cache.canHit('index')) return null;
  return cache.readIndex(cache.key(root, await cache.digestFiles(root), opts), root, opts.revision, now);
}

/** A problem's file named below `display` instead of the folder it was read from (a temp dir or cache). */
export function relabelProblem(p: ManifestProblem, root: string, display: string): ManifestProblem {
  return { ...p, location: { ...p.location, file: join(display, relative(root, p.location.file)) } };
}

/** A desired state as if it had been applied: the "live" side of a plan between two git revisions. */
export function asLive(state: DesiredState): LiveObject[] {
  return state.manifests.map((m) => {
    const hash = contentHash(m.metadata, m.spec);
    return {
      kind: m.kind,
      name: m.metadata.name,
      metadata: m.metadata,
      spec: m.spec,
      hash,
      appliedHash: hash,
      managedBy: 'taskops',
      revision: state.revision,
      updatedAt: '',
      retiredAt: null,
    };
  });
}
