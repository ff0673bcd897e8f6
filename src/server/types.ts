import type { Kind } from '../manifest/index.js';
import type { SyncReason } from '../store/types.js';

/**
 * The sync status as `GET /api/v1/status` and `taskops status` show it: read from the store, so it
 * survives restarts; `source` and `autoApply` only when a GitOps loop runs (serve).
 */
export interface SyncStatus {
  /** The followed source: a folder path or repo@ref:path. */
  source?: string;
  autoApply?: boolean;
  lastAttemptAt: string | null;
  lastAttemptedRevision: string | null;
  /** The reason the last attempt ended with. */
  lastOutcome: SyncReason | null;
  /** The last revision the live state was brought to (applied, or found already in sync). */
  lastAppliedRevision: string | null;
  lastAppliedAt: string | null;
  /** The last attempt and why, when it failed (source-failed, invalid, refused, stale-plan). */
  lastError: SyncError | null;
  /** With auto-apply off: the changes waiting to be applied. */
  pending: { create: number; update: number; delete: number } | null;
}

export interface SyncError {
  revision: string | null;
  at: string;
  reason: SyncReason;
  message: string;
  /** `file:line:col: Kind/name: message` lines when the manifests were invalid. */
  problems: string[];
}

export interface SyncOutcome {
  outcome: SyncReason;
  revision: string | null;
  summary: { create: number; update: number; delete: number };
  error: SyncError | null;
}

export interface SyncController {
  /** The followed source and whether it applies; the rest of the status is read from the store. */
  describe(): { source: string; autoApply: boolean };
  /** Fetches the source now and reconciles; concurrent calls share one run. */
  syncNow(): Promise<SyncOutcome>;
  /** Where a live object is declared in the source, when it came from there (absent: not known). */
  sourceOf?(kind: Kind, name: string): ObjectSource | undefined;
}

/** An object's file (relative to the display root) and 1-based line, as the listings serve it. */
export interface ObjectSource {
  file: string;
  line: number;
}

/** The listings' lookup of `source`; never throws, answers undefined for an object not from the source. */
export type SourceLookup = (kind: Kind, name: string) => ObjectSource | undefined;
