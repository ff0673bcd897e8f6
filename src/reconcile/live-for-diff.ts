import type { DesiredState } from '../manifest/types.js';
import type { LiveObject, Store } from '../store/types.js';
import { ByKindAndName } from './by-kind.js';
import { needsContent, type DiffLive } from './diff.js';
import { manifestHash } from './hashes.js';

/** Changed objects read one by one up to this many; past it, one listing of every object costs less. */
const READ_ONE_BY_ONE_MAX = 1000;

/**
 * The live side of a plan with content only where the diff reads it: every object's summary, and the
 * metadata and spec of the objects it updates or deletes. At 100,000 objects, parsing every stored spec to
 * find the few that changed was a third of a restart's sync and a second copy of the live state in memory.
 * The plan is the same as from `listObjects()`.
 */
export async function liveForDiff(store: Store, desired: DesiredState): Promise<DiffLive[]> {
  const summaries = await store.listObjectSummaries();
  // An empty store (a first start) has nothing to compare: no map of 100,000s of desired hashes for it.
  if (summaries.length === 0) return summaries;
  const desiredHashes = new ByKindAndName<string>();
  for (const m of desired.manifests) desiredHashes.set(m.kind, m.metadata.name, manifestHash(m));
  const changed = summaries.filter((o) => needsContent(o, desiredHashes.get(o.kind, o.name)));
  if (changed.length === 0) return summaries;
  if (changed.length > READ_ONE_BY_ONE_MAX) return store.listObjects();
  const read = new ByKindAndName<LiveObject>();
  for (const o of changed) {
    const full = await store.getObject(o.kind, o.name);
    // Written since the listing (an API write): one listing then, as the diff always had; an apply of a
    // plan made from either is refused anyway once the generation it was made at has moved.
    if (!full || full.hash !== o.hash) return store.listObjects();
    read.set(o.kind, o.name, full);
  }
  return summaries.map((o) => read.get(o.kind, o.name) ?? o);
}
