import type { Kind, ObjectMetadata } from '../manifest/types.js';

export type PlanAction = 'create' | 'update' | 'delete';

/** The content of one side of a change: what the renderers print and apply writes. */
export interface PlanObject {
  metadata: ObjectMetadata;
  spec: unknown;
}

/** One changed leaf, addressed like `spec.params.payload` or `metadata.labels.team`. */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface PlanChange {
  action: PlanAction;
  kind: Kind;
  name: string;
  /** Live content (null for a create). */
  before: PlanObject | null;
  /** Desired content (null for a delete). */
  after: PlanObject | null;
  /**
   * Field-level differences of an update; for a create the leaves the manifest sets (defaults apart), for
   * a delete every leaf of `before`.
   */
  fieldChanges: FieldChange[];
  /** A create's leaves left at their schema default: shown folded into one line. Empty otherwise. */
  defaults: FieldChange[];
  /** Content hash of `after` (null for a delete). */
  hash: string | null;
  /** Next firings before → after, for Schedules and for Tasks whose schedules change; null otherwise. */
  firings?: PlanFirings | null;
  /** For a created or changed EventTrigger planned against a live store: its matches over recorded events. */
  eventMatches?: PlanEventMatches | null;
  /** An update that puts back a live object changed by hand since taskops applied it. */
  drift: boolean;
  /** An update that takes over an object made through the API, now declared in the source. */
  adopt: boolean;
}

/** One firing: the instant, and the local time in its schedule's zone (`Fri 2026-11-27 18:00 EST (-05:00)`). */
export interface PlanFiring {
  at: string;
  local: string;
  schedule: string;
}

/** A deleted schedule's `after` is empty: those are the firings that will no longer happen. */
export interface PlanFirings {
  before: PlanFiring[];
  after: PlanFiring[];
}

/** How many of the events recorded in the last `days` days a trigger matched (before) and would match (after). */
export interface PlanEventMatches {
  days: number;
  /** Null for a new trigger. */
  before: number | null;
  after: number;
}

export type PlanNoteReason = 'unmanaged' | 'retired';

/** Something the plan deliberately leaves alone, for the renderers to mention. */
export interface PlanNote {
  kind: Kind;
  name: string;
  reason: PlanNoteReason;
  message: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
}

/** Why applying the plan would be refused (a safety rule), kept in the plan so every renderer shows it. */
export interface PlanRefusal {
  reason: 'delete-all' | 'mass-delete';
  message: string;
}

/** Something a reviewer should know that does not stop the plan. */
export interface PlanWarning {
  /** `Kind/name` it concerns, or null for the plan as a whole (an uncommitted working tree). */
  object: string | null;
  message: string;
}

/** A plan is plain data: apply consumes it, renderers print it, nothing in it is computed twice. */
export interface Plan {
  revision: string;
  changes: PlanChange[];
  notes: PlanNote[];
  summary: PlanSummary;
  /** Live objects managed by taskops when the plan was made: the base of the safety checks. */
  liveManaged: number;
  /** Set when applying would be refused; exit codes stay as they were (a dry run still exits 0). */
  refused: PlanRefusal | null;
  warnings: PlanWarning[];
}

export const NOTE_MESSAGES: Record<PlanNoteReason, string> = {
  unmanaged: 'unmanaged, kept (made through the API, not declared in the source)',
  retired: 'retired after its run (deleteAfterRun); not re-created or updated',
};
