import { upcomingFirings, type UpcomingFiring } from '../engine/index.js';
import { KINDS, type Kind } from '../manifest/types.js';
import { findDrift, type DriftEntry } from '../reconcile/index.js';
import type { Store } from '../store/types.js';
import type { SyncStatus } from './types.js';

export interface KindCounts {
  total: number;
  taskops: number;
  api: number;
  retired: number;
}

export interface StatusReport {
  appliedRevision: string | null;
  appliedAt: string | null;
  objects: Record<Kind, KindCounts>;
  drift: DriftEntry[];
  nextFirings: UpcomingFiring[];
  /** Present when a GitOps loop runs (serve): the followed source and its last error. */
  sync?: SyncStatus;
}

/** Applied revision, counts, drift and the next firings: shared by `taskops status` and `GET /api/v1/status`. */
export async function statusReport(
  store: Store,
  now: Date,
  defaultZone: string,
  sync?: SyncStatus,
): Promise<StatusReport> {
  const live = await store.listObjects();
  const applied = await store.getAppliedRevision();
  const objects = Object.fromEntries(
    KINDS.map((k) => [k, { total: 0, taskops: 0, api: 0, retired: 0 }]),
  ) as Record<Kind, KindCounts>;
  for (const o of live) {
    const c = objects[o.kind];
    c.total++;
    c[o.managedBy]++;
    if (o.retiredAt) c.retired++;
  }
  return {
    appliedRevision: applied?.revision ?? null,
    appliedAt: applied?.appliedAt ?? null,
    objects,
    drift: findDrift(live),
    nextFirings: upcomingFirings(live, now, 5, defaultZone),
    ...(sync ? { sync } : {}),
  };
}
