import { upcomingFirings, type DisabledWebhook, type UpcomingFiring } from '../engine/index.js';
import { storedDisabledWebhooks } from './deliveries.js';
import { KINDS, type Kind } from '../manifest/types.js';
import { formatProblem } from '../manifest/index.js';
import { findDrift, type DriftEntry } from '../reconcile/index.js';
import type { Store, SyncStatusRecord } from '../store/types.js';
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
  /** The last reconcile attempt kept in the store (null before the first); with the source when serve runs. */
  sync: SyncStatus | null;
  /** Webhooks their receiver disabled (410 Gone), by name: deliveries to them fail at once until re-enabled. */
  disabledWebhooks: Record<string, DisabledWebhook>;
}

const FAILURES = new Set(['source-failed', 'invalid', 'refused', 'stale-plan']);

/** The stored sync status as the API and the CLI show it. */
export function syncStatus(
  record: SyncStatusRecord | null,
  loop?: { source: string; autoApply: boolean },
): SyncStatus | null {
  if (!record && !loop) return null;
  const last = record?.lastAttempt ?? null;
  return {
    ...loop,
    lastAttemptAt: last?.at ?? null,
    lastAttemptedRevision: last?.revision ?? null,
    lastOutcome: last?.reason ?? null,
    lastAppliedRevision: record?.lastApplied?.revision ?? null,
    lastAppliedAt: record?.lastApplied?.at ?? null,
    lastError:
      last && FAILURES.has(last.reason)
        ? {
            revision: last.revision,
            at: last.at,
            reason: last.reason,
            message: last.message ?? last.reason,
            problems: last.problems.map(formatProblem),
          }
        : null,
    pending: last?.reason === 'pending' ? { ...last.summary } : null,
  };
}

/** Applied revision, counts, drift, the next firings and the last sync: shared by `taskops status` and `GET /api/v1/status`. */
export async function statusReport(
  store: Store,
  now: Date,
  defaultZone: string,
  loop?: { source: string; autoApply: boolean },
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
    sync: syncStatus(await store.getSyncStatus(), loop),
    disabledWebhooks: await storedDisabledWebhooks(store),
  };
}
