import { ManifestError, type ManifestProblem } from '../manifest/index.js';
import type { DesiredState } from '../manifest/types.js';
import type { Source, SourceSnapshot } from '../source/types.js';
import { StoreError } from '../store/errors.js';
import type { Store, SyncAttempt, SyncReason } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';
import { apply } from './apply.js';
import { loadDesired, type LoadDesiredOptions } from './desired.js';
import { diff } from './diff.js';
import type { Plan, PlanSummary } from './plan.js';
import { withRefusal, type SafetyOptions } from './safety.js';

export type ReconcileReason = SyncReason;

/** Where reconcileOnce reads the time: the engine's Clock fits, and so does `{ now: () => new Date() }`. */
export interface ReconcileClock {
  now(): Date;
}

export interface ReconcileOnceOptions {
  /** The audit log goes to `<dataDir>/logs/`. */
  dataDir: string;
  /** `apply` writes the plan; `plan` stops at it (a dry run, or serve with auto-apply off). */
  mode: 'apply' | 'plan';
  /** Keep the attempt in the store (sync status); a dry run records nothing, since it changes nothing. */
  record: boolean;
  safety?: SafetyOptions;
  load?: Omit<LoadDesiredOptions, 'revision'>;
}

/** What one reconcile step did, as data: callers branch on `reason`, never on error classes. */
export interface ReconcileOutcome {
  reason: ReconcileReason;
  /** applied, unchanged or pending: nothing went wrong. */
  ok: boolean;
  at: Date;
  /** The revision read from the source (null when the source could not be read). */
  revision: string | null;
  /** The plan against the live state (null when no plan could be made: source-failed, invalid). */
  plan: Plan | null;
  summary: PlanSummary;
  /** The invalid manifests' problems with their file:line:col (reason `invalid`). */
  problems: ManifestProblem[];
  /** What went wrong and what to do (null when ok). */
  message: string | null;
  /** The audit log the applied changes were appended to. */
  auditFile: string | null;
}

const NO_CHANGES: PlanSummary = { create: 0, update: 0, delete: 0 };

/** The one place that decides whether a plan changes anything. */
export const planHasChanges = (plan: Plan): boolean => plan.changes.length > 0;

/**
 * One reconcile step, as `taskops reconcile`, serve's loop, tests and benches all run it:
 * source → load and validate → diff against the live state → safety → apply (mode `apply`) → record.
 * Each step that fails ends the attempt with its reason; the live state is then left as it was.
 * A plan without changes still records its revision as applied, so the status names what is live.
 * Store failures other than a stale plan are thrown: nothing could be recorded about them anyway.
 */
export async function reconcileOnce(
  source: Source,
  store: Store,
  clock: ReconcileClock,
  opts: ReconcileOnceOptions,
): Promise<ReconcileOutcome> {
  const at = clock.now();
  const outcome = redacted(await attempt(source, store, at, opts));
  if (opts.record) await store.recordSyncAttempt(toSyncAttempt(outcome));
  return outcome;
}

async function attempt(
  source: Source,
  store: Store,
  at: Date,
  opts: ReconcileOnceOptions,
): Promise<ReconcileOutcome> {
  const base = { at, plan: null, summary: NO_CHANGES, problems: [], auditFile: null };
  let snap: SourceSnapshot;
  try {
    snap = await source.fetch();
  } catch (err) {
    return { ...base, reason: 'source-failed', ok: false, revision: null, message: errorText(err) };
  }
  const revision = snap.revision;
  try {
    let state: DesiredState;
    try {
      state = await loadDesired(snap.root, { now: at, ...opts.load, revision });
    } catch (err) {
      if (err instanceof ManifestError) {
        const n = err.problems.length;
        const message = `${n} invalid manifest${n === 1 ? '' : 's'} at ${revision}; nothing applied`;
        return { ...base, reason: 'invalid', ok: false, revision, problems: err.problems, message };
      }
      // The files could not be read (permissions, a vanished folder): the source failed, not the manifests.
      return { ...base, reason: 'source-failed', ok: false, revision, message: errorText(err) };
    }
    const generation = await store.generation();
    const plan = withRefusal(diff(state, await store.listObjects()), opts.safety);
    const planned = { ...base, revision, plan, summary: { ...plan.summary } };
    if (plan.refused) return { ...planned, reason: 'refused', ok: false, message: plan.refused.message };
    if (opts.mode === 'plan') {
      return { ...planned, reason: planHasChanges(plan) ? 'pending' : 'unchanged', ok: true, message: null };
    }
    const applied = await store.getAppliedRevision();
    if (!planHasChanges(plan) && applied?.revision === revision) {
      return { ...planned, reason: 'unchanged', ok: true, message: null };
    }
    try {
      const result = await apply(plan, store, {
        at,
        dataDir: opts.dataDir,
        ...opts.safety,
        expectGeneration: generation,
      });
      const reason = planHasChanges(plan) ? 'applied' : 'unchanged';
      return { ...planned, reason, ok: true, message: null, auditFile: result.auditFile };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'stale-plan') {
        return { ...planned, reason: 'stale-plan', ok: false, message: err.message };
      }
      throw err;
    }
  } finally {
    await snap.cleanup?.();
  }
}

/** The outcome's text is kept, logged and sent in events: a credential in a repo URL never goes with it. */
function redacted(outcome: ReconcileOutcome): ReconcileOutcome {
  return {
    ...outcome,
    message: outcome.message === null ? null : redactCredentials(outcome.message),
    problems: outcome.problems.map((p) => ({ ...p, message: redactCredentials(p.message) })),
  };
}

/** The attempt as the store keeps it. */
export function toSyncAttempt(outcome: ReconcileOutcome): SyncAttempt {
  return {
    at: outcome.at.toISOString(),
    revision: outcome.revision,
    reason: outcome.reason,
    message: outcome.message,
    problems: outcome.problems,
    summary: { ...outcome.summary },
  };
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
