export { diff } from './diff.js';
export { apply, planWrites, type ApplyOptions, type ApplyResult } from './apply.js';
export { appendAudit, auditLogPath, type AuditEntry } from '../store/audit.js';
export {
  checkSafety,
  safetyProblem,
  withRefusal,
  DEFAULT_MAX_DELETE_SHARE,
  MASS_DELETE_MIN_LIVE,
  type SafetyOptions,
} from './safety.js';
export { PlanSafetyError } from './errors.js';
export { contentHash } from '../store/hash.js';
export type {
  Plan,
  PlanAction,
  PlanChange,
  PlanNote,
  PlanNoteReason,
  PlanObject,
  PlanRefusal,
  PlanFiring,
  PlanFirings,
  PlanEventMatches,
  PlanWarning,
  PlanSummary,
  FieldChange,
} from './plan.js';
export * from './render/index.js';
export { loadDesired, asLive, relabelProblem, type LoadDesiredOptions } from './desired.js';
export {
  ValidatedRevisionCache,
  type ValidatedCacheEvent,
  type ValidatedCacheOptions,
} from './validated-cache.js';
export { findDrift, type DriftEntry } from './drift.js';
export { ObjectSources } from './sources.js';
export {
  reconcileOnce,
  planHasChanges,
  toSyncAttempt,
  type ReconcileClock,
  type ReconcileOnceOptions,
  type ReconcileOutcome,
  type ReconcileReason,
} from './run.js';
export {
  readSavedPlan,
  savePlan,
  savedPlanText,
  SavedPlanError,
  type SavedPlan,
  type SavedPlanSource,
} from './saved-plan.js';
export { withFirings, PLAN_FIRINGS, type FiringOptions } from './firings.js';
export { withEventCounts, EVENT_LOOKBACK_DAYS } from './event-counts.js';
