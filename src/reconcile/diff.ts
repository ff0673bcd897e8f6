import { withSpecOf } from '../manifest/stored-form.js';
import { KINDS, type Kind, type LoadedManifest } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';
import { ByKindAndName } from './by-kind.js';
import { createFields } from './defaults.js';
import { fieldChanges, leaves } from './fields.js';
import { manifestHash } from './hashes.js';
import type { IndexedManifest } from './validated-cache.js';
import { NOTE_MESSAGES, type Plan, type PlanChange, type PlanNote, type PlanObject } from './plan.js';

const kindRank = (kind: Kind): number => KINDS.indexOf(kind);

export const byKindThenName = (a: { kind: Kind; name: string }, b: { kind: Kind; name: string }): number =>
  kindRank(a.kind) - kindRank(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * A live object as the diff reads it: its content (metadata, spec) is needed only where `needsContent`
 * says so, so a caller may pass summaries (Store.listObjectSummaries) for every other object.
 */
export type DiffLive = Pick<
  LiveObject,
  'kind' | 'name' | 'hash' | 'appliedHash' | 'managedBy' | 'retiredAt'
> &
  Partial<Pick<LiveObject, 'metadata' | 'spec'>>;

/** Whether the diff reads a live object's content: it is updated, adopted or deleted (desiredHash undefined). */
export function needsContent(o: DiffLive, desiredHash: string | undefined): boolean {
  if (desiredHash === undefined) return o.managedBy !== 'api';
  if (o.retiredAt) return false;
  return o.managedBy === 'api' || o.hash !== desiredHash;
}

/** What the diff reads of the desired side: loaded manifests, or index entries (a hash, no content) of a cache. */
export interface DiffDesired {
  revision: string;
  manifests: readonly (LoadedManifest | IndexedManifest)[];
  warnings?: string[];
}

export const hashOf = (m: LoadedManifest | IndexedManifest): string =>
  'spec' in m ? manifestHash(m) : m.hash;

const content = (o: {
  kind?: Kind;
  name?: string;
  metadata?: PlanObject['metadata'];
  spec?: unknown;
}): PlanObject => {
  if (o.metadata === undefined || o.spec === undefined)
    throw new Error(
      `diff: the content of ${o.kind}/${o.name ?? o.metadata?.name} was not read, yet it changes`,
    );
  return { metadata: o.metadata, spec: o.spec };
};

/** A desired object's content, its spec read only if something reads it (an apply does not: see specTextOf). */
const desiredContent = (m: LoadedManifest | IndexedManifest): PlanObject =>
  'spec' in m ? withSpecOf({ metadata: m.metadata }, m) : content(m);

/** Description and labels only: the name is the key, not content that can change. */
function metadataFields(o: PlanObject): Record<string, unknown> {
  return { description: o.metadata.description, labels: o.metadata.labels };
}

function changedFields(before: PlanObject, after: PlanObject) {
  return [
    ...fieldChanges(metadataFields(before), metadataFields(after), 'metadata'),
    ...fieldChanges(before.spec, after.spec, 'spec'),
  ];
}

function allFields(o: PlanObject, side: 'before' | 'after') {
  return [...leaves(metadataFields(o), 'metadata', side), ...leaves(o.spec, 'spec', side)];
}

export interface DiffOptions {
  /** Each change's field-by-field detail and defaults, for renderers (default true); without, both are empty. */
  fields?: boolean;
}

/**
 * What it takes to bring the live state to the desired one. Pure and deterministic: changes and notes are
 * ordered by kind (dependency order) then name. Objects made through the API are never deleted; retired
 * one-time tasks are left alone.
 */
export function diff(desired: DiffDesired, live: readonly DiffLive[], opts: DiffOptions = {}): Plan {
  const fields = opts.fields !== false;
  const liveByKey = new ByKindAndName<DiffLive>();
  for (const o of live) liveByKey.set(o.kind, o.name, o);
  const desiredKeys = new ByKindAndName<true>();
  const changes: PlanChange[] = [];
  const notes: PlanNote[] = [];

  for (const m of desired.manifests) {
    desiredKeys.set(m.kind, m.metadata.name, true);
    const hash = hashOf(m);
    const current = liveByKey.get(m.kind, m.metadata.name);
    const name = m.metadata.name;
    if (!current) {
      const after = desiredContent(m);
      const created = fields ? createFields(m.kind, after.spec) : { shown: [], defaults: [] };
      changes.push({
        action: 'create',
        kind: m.kind,
        name,
        before: null,
        after,
        fieldChanges: fields ? [...leaves(metadataFields(after), 'metadata', 'after'), ...created.shown] : [],
        defaults: created.defaults,
        hash,
        drift: false,
        adopt: false,
      });
      continue;
    }
    if (current.retiredAt) {
      notes.push({ kind: m.kind, name, reason: 'retired', message: NOTE_MESSAGES.retired });
      continue;
    }
    const adopt = current.managedBy === 'api';
    if (current.hash === hash && !adopt) continue;
    const before = content(current);
    const after = desiredContent(m);
    const drift = !adopt && current.appliedHash != null && current.appliedHash !== current.hash;
    changes.push({
      action: 'update',
      kind: m.kind,
      name,
      before,
      after,
      fieldChanges: fields ? changedFields(before, after) : [],
      defaults: [],
      hash,
      drift,
      adopt,
    });
  }

  for (const o of live) {
    if (desiredKeys.has(o.kind, o.name)) continue;
    if (o.managedBy === 'api') {
      notes.push({ kind: o.kind, name: o.name, reason: 'unmanaged', message: NOTE_MESSAGES.unmanaged });
      continue;
    }
    const before = content(o);
    changes.push({
      action: 'delete',
      kind: o.kind,
      name: o.name,
      before,
      after: null,
      fieldChanges: fields ? allFields(before, 'before') : [],
      defaults: [],
      hash: null,
      drift: false,
      adopt: false,
    });
  }

  changes.sort(byKindThenName);
  notes.sort(byKindThenName);
  const count = (action: PlanChange['action']) => changes.filter((c) => c.action === action).length;
  return {
    revision: desired.revision,
    changes,
    notes,
    summary: { create: count('create'), update: count('update'), delete: count('delete') },
    liveManaged: live.filter((o) => o.managedBy === 'taskops').length,
    refused: null,
    warnings: (desired.warnings ?? []).map((message) => ({ object: null, message })),
  };
}
