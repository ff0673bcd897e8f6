import { PlanSafetyError } from './errors.js';
import type { Plan } from './plan.js';

export interface SafetyOptions {
  /** Allow a plan that deletes every live taskops object, or more than maxDeleteShare of them. */
  allowDeleteAll?: boolean;
  /** Largest share (0-1) of live taskops objects one plan may delete (default 0.5). */
  maxDeleteShare?: number;
}

export const DEFAULT_MAX_DELETE_SHARE = 0.5;
/** Below this many live objects a mass-delete share means little (deleting 2 of 3 is routine). */
export const MASS_DELETE_MIN_LIVE = 5;

/** Why a plan would be refused, or null when it is safe to apply. */
export function safetyProblem(plan: Plan, opts: SafetyOptions = {}): PlanSafetyError | null {
  if (opts.allowDeleteAll) return null;
  const deletes = plan.summary.delete;
  const live = plan.liveManaged;
  if (deletes === 0) return null;
  if (deletes >= live) {
    return new PlanSafetyError(
      `refusing to apply ${plan.revision}: it would delete every live object taskops manages (${deletes} of ${live}). ` +
        'An empty or wrong manifest path usually causes this: check PATH / --path. ' +
        'If you really mean to delete them all, run again with --allow-delete-all.',
      'delete-all',
    );
  }
  const share = opts.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE;
  if (live >= MASS_DELETE_MIN_LIVE && deletes / live > share) {
    return new PlanSafetyError(
      `refusing to apply ${plan.revision}: it would delete ${deletes} of ${live} live objects taskops manages ` +
        `(${Math.round((deletes / live) * 100)}%, more than the ${Math.round(share * 100)}% allowed at once). ` +
        'Review the plan with --dry-run; to go ahead, raise --max-delete-share or pass --allow-delete-all.',
      'mass-delete',
    );
  }
  return null;
}

/** Throws the PlanSafetyError when the plan is refused. */
export function checkSafety(plan: Plan, opts: SafetyOptions = {}): void {
  const problem = safetyProblem(plan, opts);
  if (problem) throw problem;
}

/** The plan with its refusal (if any) recorded, so renderers show it and a saved plan keeps it. */
export function withRefusal(plan: Plan, opts: SafetyOptions = {}): Plan {
  const problem = safetyProblem(plan, opts);
  return { ...plan, refused: problem ? { reason: problem.rule, message: problem.message } : null };
}
