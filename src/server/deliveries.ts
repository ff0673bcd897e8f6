import { disabledWebhooks, type DisabledWebhook } from '../engine/index.js';
import { DELIVERY_OBJECT_TYPES } from '../manifest/index.js';
import type { WebhookSpec } from '../manifest/types.js';
import type { RunAttempt, RunRecord, RunStatus, RunTrigger, Store } from '../store/types.js';

/** VergeOS's delivery statuses, shown beside taskops' run states for people who know those. */
export type VergeosDeliveryStatus = 'queued' | 'running' | 'sent' | 'error';

const VERGEOS: Record<RunStatus, VergeosDeliveryStatus> = {
  queued: 'queued',
  delayed: 'queued',
  running: 'running',
  succeeded: 'sent',
  failed: 'error',
  skipped: 'error',
  interrupted: 'error',
  cancelled: 'error',
};

/** One webhook delivery (a run of a webhook task) as `taskops deliveries` and `GET /api/v1/deliveries` show it. */
export interface DeliveryView {
  runId: string;
  task: string;
  webhook: string | null;
  status: RunStatus;
  vergeosStatus: VergeosDeliveryStatus;
  /** The Standard Webhooks `webhook-id`: the same on every attempt and every replay. */
  deliveryId: string | null;
  trigger: RunTrigger;
  queuedAt: string;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  attempts: number;
  error: string | null;
  /** The last attempt's own error (the run's error sums the series up). */
  lastError: string | null;
  attemptLog: RunAttempt[];
}

export interface DeliveryQuery {
  /** Only the dead letters: deliveries that ended failed (attempts used up, or refused). */
  failed?: boolean;
  webhook?: string;
  limit?: number;
  offset?: number;
}

/** The last attempt's own error: the driver's per-attempt record (details.attempts), else the attempt log's. */
function lastErrorOf(run: RunRecord): string | null {
  const attempts = (run.details as { attempts?: Array<{ error?: unknown }> } | null)?.attempts;
  const own = Array.isArray(attempts) ? attempts.at(-1)?.error : undefined;
  return typeof own === 'string' ? own : (run.attemptLog.at(-1)?.error ?? null);
}

export function deliveryView(run: RunRecord): DeliveryView {
  return {
    runId: run.runId,
    task: run.task,
    webhook: run.target.name,
    status: run.status,
    vergeosStatus: VERGEOS[run.status],
    deliveryId: run.delivery?.id ?? null,
    trigger: run.trigger,
    queuedAt: run.queuedAt,
    finishedAt: run.finishedAt,
    nextAttemptAt: run.nextAttemptAt,
    attempts: run.attempts,
    error: run.error,
    lastError: lastErrorOf(run),
    attemptLog: run.attemptLog,
  };
}

/** Webhook deliveries, newest first. */
export async function listDeliveries(store: Store, query: DeliveryQuery = {}): Promise<DeliveryView[]> {
  const runs = await store.listRuns({
    objectType: DELIVERY_OBJECT_TYPES[0]!,
    ...(query.webhook !== undefined ? { target: query.webhook } : {}),
    ...(query.failed ? { status: ['failed'] as RunStatus[] } : {}),
    limit: query.limit ?? 50,
    offset: query.offset ?? 0,
  });
  return runs.map(deliveryView);
}

/** The webhooks disabled by their receiver (410 Gone), read from the store against its live Webhooks. */
export async function storedDisabledWebhooks(store: Store): Promise<Record<string, DisabledWebhook>> {
  const live = new Map(
    (await store.listObjects('Webhook')).map((o) => [o.name, o.spec as WebhookSpec] as const),
  );
  return Object.fromEntries(await disabledWebhooks(store, live));
}
