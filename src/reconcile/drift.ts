import type { Kind } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';

export interface DriftEntry {
  kind: Kind;
  name: string;
  /** When the object was last written (by hand, for a drifted object). */
  changedAt: string;
  reason: string;
}

/**
 * Live taskops objects whose content is no longer what taskops last applied: changed by hand (through the
 * API) since. The next reconcile puts them back to the source.
 */
export function findDrift(live: LiveObject[]): DriftEntry[] {
  return live
    .filter((o) => o.managedBy === 'taskops' && o.appliedHash != null && o.appliedHash !== o.hash)
    .map((o) => ({
      kind: o.kind,
      name: o.name,
      changedAt: o.updatedAt,
      reason: `changed by hand since ${o.revision ?? 'its last apply'}; the next reconcile puts it back`,
    }));
}
