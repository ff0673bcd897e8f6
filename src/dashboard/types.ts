// The API's answers as the dashboard reads them. Fields a newer server adds are tolerated; optional
// ones are those an older server (or another helper's pending work) may not send yet.

export interface Source {
  file: string;
  line: number;
  col?: number;
}

export interface TaskSpec {
  enabled?: boolean;
  objectType: string;
  target?: { tag?: string; name?: string };
  action: string;
  params?: Record<string, unknown>;
  schedules?: string[];
  deleteAfterRun?: boolean;
  concurrency?: string;
  timeoutSeconds?: number;
}

export interface RunSummary {
  runId: string;
  task: string;
  status: string;
  trigger: { kind: string; name: string | null; event: string | null; scheduledFor?: string };
  target?: { objectType: string; name: string | null };
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs?: number | null;
  attempts: number | unknown[];
  error: string | null;
  details?: unknown;
  /** Set on a webhook delivery only (its Standard Webhooks id): what makes a run replayable. */
  delivery?: { id: string } | null;
}

/** One webhook delivery as `GET /api/v1/deliveries` lists it. */
export interface DeliveryView {
  runId: string;
  task: string;
  webhook: string | null;
  status: string;
  trigger: RunSummary['trigger'];
  queuedAt: string;
  finishedAt: string | null;
  attempts: number;
  error: string | null;
  lastError: string | null;
}

/** A Webhook its receiver disabled with 410 Gone: deliveries fail at once until it is re-enabled. */
export interface DisabledWebhook {
  status: number;
  at: string;
  runId: string;
}

export interface TaskView {
  name: string;
  retired: boolean;
  spec?: TaskSpec;
  /** What `spec.target` names (driver registry): a Webhook manifest, nothing, or objects acted on. */
  targetKind?: 'webhook' | 'none' | 'objects';
  triggers?: string[];
  nextFirings?: string[];
  lastRun?: RunSummary | null;
  source?: Source;
}

export interface Firing {
  at: string;
  local: string;
}

export interface ScheduleView {
  name: string;
  timezone: string;
  enabled: boolean;
  tasks: string[];
  spec: Record<string, unknown>;
  nextFirings: Firing[];
  error: string | null;
  source?: Source;
}

export interface ObjectView {
  kind: string;
  name: string;
  managedBy: string;
  revision: string | null;
  updatedAt: string;
  retiredAt: string | null;
  drift: boolean;
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  source?: Source;
}

export interface SyncView {
  source?: string;
  autoApply?: boolean;
  lastAttemptAt: string | null;
  lastGoodRevision?: string | null;
  lastAppliedRevision?: string | null;
  lastOutcome?: string | null;
  lastError: {
    revision: string | null;
    at: string;
    message: string;
    reason?: string;
    problems: string[];
  } | null;
  pending: { create: number; update: number; delete: number } | null;
}

export interface StatusView {
  appliedRevision: string | null;
  appliedAt: string | null;
  objects: Record<string, { total: number; taskops: number; api: number; retired: number }>;
  drift: Array<{ kind: string; name: string; [k: string]: unknown }>;
  nextFirings: Array<{ schedule: string; at: string; tasks: string[] }>;
  sync?: SyncView | null;
  disabledWebhooks?: Record<string, DisabledWebhook>;
}
