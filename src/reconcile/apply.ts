import { specTextOf } from '../manifest/stored-form.js';
import type { LeaderFence, ObjectWrite, Store } from '../store/types.js';
import { AUDIT_SETTLED_MS, auditLogPath, commitAudited, recoverAudit } from '../store/audit.js';
import type { Plan } from './plan.js';
import { checkSafety, type SafetyOptions } from './safety.js';

export interface ApplyOptions extends SafetyOptions {
  at: Date;
  dataDir: string;
  /** The store generation the plan's live state was read at; a later write makes the apply refuse. */
  expectGeneration?: number;
  /** A replica leader's token, checked by the store in the apply's transaction. */
  fence?: LeaderFence;
}

export interface ApplyResult {
  revision: string;
  applied: Plan['summary'];
  auditFile: string | null;
}

/** The store writes that carry out a plan, in the plan's order. */
export function planWrites(plan: Plan): ObjectWrite[] {
  return plan.changes.map((c): ObjectWrite => {
    if (c.action === 'delete') return { action: 'delete', kind: c.kind, name: c.name };
    if (!c.after || c.hash === null)
      throw new Error(`plan change ${c.kind}/${c.name} has no content to ${c.action}`);
    const object = { kind: c.kind, name: c.name, metadata: c.after.metadata, hash: c.hash };
    const specJson = specTextOf(c.after);
    // The loader's own text of the spec: not read into objects only to be turned back into that text.
    if (specJson !== undefined) return { action: c.action, object, specJson };
    return { action: c.action, object: { ...object, spec: c.after.spec as never } };
  });
}

/**
 * Applies a plan: safety rules first (PlanSafetyError, nothing written), then every write, the applied
 * revision and the audit lines in one store transaction, then the lines appended to the audit log (one per
 * change) and marked written.
 */
export async function apply(plan: Plan, store: Store, opts: ApplyOptions): Promise<ApplyResult> {
  checkSafety(plan, opts);
  const writes = planWrites(plan);
  // Lines an earlier apply committed and a crash kept from the log come first, in order.
  await recoverAudit(store, opts.dataDir, new Date(opts.at.getTime() - AUDIT_SETTLED_MS));
  const at = opts.at.toISOString();
  const entries = plan.changes.map((c) => ({
    at,
    revision: plan.revision,
    action: c.action,
    kind: c.kind,
    name: c.name,
  }));
  await commitAudited(store, opts.dataDir, entries, (audit) =>
    store.applyWrites(writes, plan.revision, opts.at, {
      ...(opts.expectGeneration === undefined ? {} : { expectGeneration: opts.expectGeneration }),
      ...(opts.fence ? { fence: opts.fence } : {}),
      audit,
    }),
  );
  return {
    revision: plan.revision,
    applied: { ...plan.summary },
    auditFile: plan.changes.length > 0 ? auditLogPath(opts.dataDir, opts.at) : null,
  };
}
