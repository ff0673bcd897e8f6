/** What the GitOps loop reports: the server shows it and `POST /api/v1/sync` drives it. */
export interface SyncStatus {
  /** The followed source: a folder path or repo@ref:path. */
  source: string;
  autoApply: boolean;
  lastAttemptAt: string | null;
  /** The last revision applied (or found already in sync). */
  lastGoodRevision: string | null;
  /** The last refused revision and why, until a later revision applies. */
  lastError: SyncError | null;
  /** With auto-apply off: the changes waiting to be applied. */
  pending: { create: number; update: number; delete: number } | null;
}

export interface SyncError {
  revision: string | null;
  at: string;
  message: string;
  /** `file:line:col: Kind/name: message` lines when the manifests were invalid. */
  problems: string[];
}

export interface SyncOutcome {
  outcome: 'applied' | 'unchanged' | 'refused' | 'pending';
  revision: string | null;
  summary: { create: number; update: number; delete: number };
  error: SyncError | null;
}

export interface SyncController {
  status(): SyncStatus;
  /** Fetches the source now and reconciles; concurrent calls share one run. */
  syncNow(): Promise<SyncOutcome>;
}
