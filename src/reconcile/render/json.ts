import type { Plan } from '../plan.js';
import { maskAt, maskSecrets } from './mask.js';
import { stable } from './values.js';

/**
 * The contract's JSON plan: {revision, changes: [{action, kind, name, before, after, …}], summary}, plus
 * field changes, folded defaults, notes, `refused`, `warnings` and `applied`. Secrets masked; keys in a fixed order so the bytes never vary.
 */
export function renderJson(plan: Plan, opts: { applied?: boolean } = {}): string {
  const doc = {
    revision: plan.revision,
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      name: c.name,
      before: c.before ? stable(maskSecrets(c.before)) : null,
      after: c.after ? stable(maskSecrets(c.after)) : null,
      fieldChanges: c.fieldChanges.map((f) => ({
        path: f.path,
        before: f.before === undefined ? null : stable(maskAt(f.path, f.before)),
        after: f.after === undefined ? null : stable(maskAt(f.path, f.after)),
      })),
      defaults: c.defaults.map((f) => ({ path: f.path, value: stable(maskAt(f.path, f.after)) })),
      firings: c.firings
        ? {
            before: c.firings.before.map((f) => ({ at: f.at, local: f.local, schedule: f.schedule })),
            after: c.firings.after.map((f) => ({ at: f.at, local: f.local, schedule: f.schedule })),
          }
        : null,
      eventMatches: c.eventMatches
        ? { days: c.eventMatches.days, before: c.eventMatches.before, after: c.eventMatches.after }
        : null,
      drift: c.drift,
      adopt: c.adopt,
    })),
    summary: { create: plan.summary.create, update: plan.summary.update, delete: plan.summary.delete },
    notes: plan.notes.map((n) => ({ kind: n.kind, name: n.name, reason: n.reason, message: n.message })),
    refused: plan.refused ? { reason: plan.refused.reason, message: plan.refused.message } : null,
    warnings: plan.warnings.map((w) => ({ object: w.object, message: w.message })),
    applied: opts.applied ?? false,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
