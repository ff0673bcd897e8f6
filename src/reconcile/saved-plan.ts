import { createHash } from 'node:crypto';
import { canonicalJson } from '../store/hash.js';
import type { Plan } from './plan.js';

export const SAVED_PLAN_KIND = 'taskops-plan';
export const SAVED_PLAN_VERSION = 1;

/** Where the plan's manifests were read from, so `reconcile --plan FILE` can read the same source again. */
export interface SavedPlanSource {
  path?: string;
  repo?: string;
  ref?: string;
  subdir?: string;
}

/**
 * A plan as `reconcile --dry-run --out FILE` saves it: the revision of the manifests and the generation of
 * the live state it was made against, and a hash over all of it. `reconcile --plan FILE` applies exactly
 * this plan, and only while both still hold.
 */
export interface SavedPlan {
  kind: typeof SAVED_PLAN_KIND;
  version: typeof SAVED_PLAN_VERSION;
  revision: string;
  generation: number;
  createdAt: string;
  source: SavedPlanSource;
  plan: Plan;
  /** `sha256:` of the canonical JSON of every other field. */
  hash: string;
}

/** A plan file's content was changed or cut after it was saved. */
export class SavedPlanError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'SavedPlanError';
  }
}

function hashOf(body: Omit<SavedPlan, 'hash'>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

export function savePlan(plan: Plan, generation: number, at: Date, source: SavedPlanSource): SavedPlan {
  const body = {
    kind: SAVED_PLAN_KIND,
    version: SAVED_PLAN_VERSION,
    revision: plan.revision,
    generation,
    createdAt: at.toISOString(),
    source,
    plan,
  } as const;
  return { ...body, hash: hashOf(body) };
}

/** The file's text as written to disk: stable, readable, one trailing newline. */
export const savedPlanText = (saved: SavedPlan): string => JSON.stringify(saved, null, 2) + '\n';

/** Reads a saved plan back, refusing one that is not a plan, of another version, or whose hash does not match. */
export function readSavedPlan(text: string, file: string): SavedPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SavedPlanError(`${file} is not a saved plan: ${(err as Error).message}`, file);
  }
  const saved = doc as Partial<SavedPlan>;
  if (saved?.kind !== SAVED_PLAN_KIND || saved.version !== SAVED_PLAN_VERSION) {
    throw new SavedPlanError(
      `${file} is not a taskops plan of version ${SAVED_PLAN_VERSION}: save one with taskops reconcile --dry-run --out ${file}`,
      file,
    );
  }
  const { hash, ...body } = saved as SavedPlan;
  if (hash !== hashOf(body) || body.plan?.revision !== body.revision) {
    throw new SavedPlanError(
      `${file} was changed after it was saved (its hash does not match its content): make a new plan with --dry-run --out`,
      file,
    );
  }
  return saved as SavedPlan;
}
