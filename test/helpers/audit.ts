import type { PendingAudit, Store } from '../../src/store/types.js';

/** The audit lines a store keeps, looked at without taking any (a recovery that appends none). */
export async function keptAudits(store: Store): Promise<PendingAudit[]> {
  let kept: PendingAudit[] = [];
  await store.takePendingAudits((audits) => {
    kept = audits;
    return [];
  });
  return kept;
}
