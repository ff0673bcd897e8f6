import { ManifestError, type ManifestProblem } from '../manifest/index.js';
import type { DesiredState } from '../manifest/types.js';
import type { Source, SourceSnapshot } from '../source/types.js';
import { StoreError } from '../store/errors.js';
import type { LeaderFence, Store, SyncAttempt, SyncReason } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';
import { apply } from './apply.js';
import { loadDesired, loadDesiredIndex, type LoadDesiredOptions } from './desired.js';
import type { DesiredIndex } from './validated-cache.js';
import { diff } from './diff.js';
import { liveForDiff } from './live-for-diff.js';
import { UnchangedCheck } from './unchanged.js';
import { EVENT_LOOKBACK_DAYS, withEventCounts } from './event-counts.js';
import { withFirings } from './firings.js';
import type { Plan, PlanSummary } from './plan.js';
import { withRefusal, type SafetyOptions } from './safety.js';
import { ObjectSources } from './sources.js';
import type { SavedPlan } from './saved-plan.js';

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
  /**
   * Apply exactly this plan instead of making one (mode `apply`): refused as `stale-plan` when the source
   * is at another revision or the live state at another generation than when it was saved.
   */
  savedPlan?: SavedPlan;
  /** A replica leader's token: the store refuses the apply and the record once another replica leads. */
  fence?: LeaderFence;
  /**
   * The plan's detail for whoever reads it (default true): each change's fields and defaults, next firings
   * and DST warnings. Serve's loop shows no plan, only its outcome: at 100,000 schedules that detail was the
   * largest part of a first sync's time and memory. The changes, summary and safety verdict are the same.
   */
  detail?: boolean;
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
  /** The store generation the plan was made against (null without a plan): what a saved plan records. */
  generation: number | null;
  summary: PlanSummary;
  /** The invalid manifests' problems with their file:line:col (reason `invalid`). */
  problems: ManifestProblem[];
  /** What went wrong and what to do (null when ok). */
  message: string | null;
  /** The audit log the applied changes were appended to. */
  auditFile: string | null;
  /** Where each declared object is defined (null when the manifests were not loaded). */
  sources: ObjectSources | null;
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
  if (opts.record) await store.recordSyncAttempt(toSyncAttempt(outcome), opts.fence);
  return outcome;
}

async function attempt(
  source: Source,
  store: Store,
  at: Date,
  opts: ReconcileOnceOptions,
): Promise<ReconcileOutcome> {
  const base = {
    at,
    plan: null,
    generation: null,
    summary: NO_CHANGES,
    problems: [],
    auditFile: null,
    sources: null,
  };
  let snap: SourceSnapshot;
  try {
    snap = await source.fetch();
  } catch (err) {
    return { ...base, reason: 'source-failed', ok: false, revision: null, message: errorText(err) };
  }
  const revision = snap.revision;
  try {
    if (opts.savedPlan) return await applySaved(opts.savedPlan, revision, store, opts, base);
    // Serve: an unchanged revision is told from the cache's index and the stored hashes, reading no spec.
    const display = opts.load?.displayRoot ?? '.';
    const indexed =
      opts.detail === false ? await unchangedByIndex(snap.root, revision, store, at, opts) : null;
    let sources: ObjectSources;
    let generation: number;
    let unrefused: Plan;
    if (indexed) ({ sources, generation, plan: unrefused } = indexed);
    else {
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
      generation = await store.generation();
      unrefused = await withRecordedEvents(await planAgainstLive(state, store, at, opts), state, store, at);
      sources = new ObjectSources(state.manifests, snap.root, display);
    }
    const plan = withRefusal(unrefused, opts.safety);
    const planned = { ...base, revision, plan, generation, summary: { ...plan.summary }, sources };
    if (plan.refused) return { ...planned, reason: 'refused', ok: false, message: plan.refused.message };
    if (opts.mode === 'plan') {
      return { ...planned, reason: planHasChanges(plan) ? 'pending' : 'unchanged', ok: true, message: null };
    }
    const applied = await store.getAppliedRevision();
    if (!planHasChanges(plan) && applied?.revision === revision) {
      return { ...planned, reason: 'unchanged', ok: true, message: null };
    }
    return await applyAt({ ...planned, reason: 'pending', ok: true, message: null }, store, opts);
  } finally {
    await snap.cleanup?.();
  }
}

/**
 * The plan from the validated revision cache's index when it changes nothing (the same plan as from the
 * full state: the diff reads no content then), else null: any change needs the desired objects' content.
 * The live summaries are seen one at a time and none is kept (UnchangedCheck); the first change stops the read.
 */
async function unchangedByIndex(
  root: string,
  revision: string,
  store: Store,
  at: Date,
  opts: ReconcileOnceOptions,
): Promise<{ sources: ObjectSources; generation: number; plan: Plan } | null> {
  const read = await readIndex(root, revision, at, opts);
  if (!read) return null;
  const { check, sources } = read;
  const generation = await store.generation();
  await store.visitObjectSummaries((o) => check.see(o));
  const plan = check.plan();
  return plan && { sources, generation, plan };
}

/**
 * The index's hashes (for the check) and places (kept by serve), made before any live object is read: the
 * index's own entries (≈ 20 MB at 100,000 objects) are garbage by then, not held through the read.
 */
async function readIndex(
  root: string,
  revision: string,
  at: Date,
  opts: ReconcileOnceOptions,
): Promise<{ check: UnchangedCheck; sources: ObjectSources } | null> {
  let desired: DesiredIndex | null;
  try {
    desired = await loadDesiredIndex(root, { now: at, ...opts.load, revision });
  } catch {
    return null; // The full load reads the files again and reports what is wrong with them.
  }
  if (!desired) return null;
  return {
    check: new UnchangedCheck(desired),
    sources: new ObjectSources(desired, root, opts.load?.displayRoot ?? '.'),
  };
}

/** The diff, with each change's detail (fields, next firings) or, without detail, from the live summaries. */
async function planAgainstLive(
  state: DesiredState,
  store: Store,
  at: Date,
  opts: ReconcileOnceOptions,
): Promise<Plan> {
  if (opts.detail === false) return diff(state, await liveForDiff(store, state), { fields: false });
  const live = await store.listObjects();
  const firingOpts = { now: at, defaultZone: opts.load?.defaultZone ?? 'UTC' };
  return withFirings(diff(state, live), state, live, firingOpts);
}

/** Changed EventTriggers are replayed against the events the store recorded in the last week. */
async function withRecordedEvents(plan: Plan, state: DesiredState, store: Store, at: Date): Promise<Plan> {
  if (!plan.changes.some((c) => c.kind === 'EventTrigger' && c.after)) return plan;
  const events = await store.eventsSince(new Date(at.getTime() - EVENT_LOOKBACK_DAYS * 86_400_000));
  // The live tags a trigger matched through before: read here, since a plan without detail lists no content.
  return withEventCounts(plan, state, await store.listObjects('Tag'), events);
}

type Planned = ReconcileOutcome & { plan: Plan; generation: number };

/** Writes the plan if the live state is still at the generation it was made against. */
async function applyAt(
  planned: Planned,
  store: Store,
  opts: ReconcileOnceOptions,
): Promise<ReconcileOutcome> {
  const { plan } = planned;
  try {
    const result = await apply(plan, store, {
      at: planned.at,
      dataDir: opts.dataDir,
      ...opts.safety,
      expectGeneration: planned.generation,
      ...(opts.fence ? { fence: opts.fence } : {}),
    });
    const reason = planHasChanges(plan) ? 'applied' : 'unchanged';
    return { ...planned, reason, ok: true, message: null, auditFile: result.auditFile };
  } catch (err) {
    if (err instanceof StoreError && err.code === 'stale-plan') {
      return { ...planned, reason: 'stale-plan', ok: false, message: err.message };
    }
    throw err;
  }
}

const MAKE_A_NEW_PLAN =
  'nothing was applied: make a new plan with reconcile --dry-run --out, review it, and apply that';

/** A saved plan applies only to the revision and the live state it was made from (Terraform's stale plan). */
async function applySaved(
  saved: SavedPlan,
  revision: string,
  store: Store,
  opts: ReconcileOnceOptions,
  base: Omit<ReconcileOutcome, 'reason' | 'ok' | 'revision' | 'message'>,
): Promise<ReconcileOutcome> {
  const plan = withRefusal(saved.plan, opts.safety);
  const planned: Planned = {
    ...base,
    revision,
    plan,
    generation: saved.generation,
    summary: { ...plan.summary },
    reason: 'pending',
    ok: true,
    message: null,
  };
  const stale = (message: string): ReconcileOutcome => ({
    ...planned,
    reason: 'stale-plan',
    ok: false,
    message,
  });
  if (revision !== saved.revision) {
    return stale(
      `stale plan: the manifests changed since the plan was made (it was made at ${saved.revision}, ` +
        `the source is now at ${revision}); ${MAKE_A_NEW_PLAN}`,
    );
  }
  const generation = await store.generation();
  if (generation !== saved.generation) {
    return stale(
      `stale plan: the live state changed since the plan was made (generation ${saved.generation}, now ` +
        `${generation}: another reconcile or an API write came in between); ${MAKE_A_NEW_PLAN}`,
    );
  }
  if (plan.refused) return { ...planned, reason: 'refused', ok: false, message: plan.refused.message };
  const outcome = await applyAt(planned, store, opts);
  return outcome.reason === 'stale-plan'
    ? stale(`stale plan: the live state changed while it was being applied; ${MAKE_A_NEW_PLAN}`)
    : outcome;
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
