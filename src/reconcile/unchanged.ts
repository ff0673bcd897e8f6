import { ByKindAndName } from './by-kind.js';
import { byKindThenName, hashOf, needsContent, type DiffDesired, type DiffLive } from './diff.js';
import { NOTE_MESSAGES, type Plan, type PlanNote } from './plan.js';
import { DesiredIndex } from './validated-cache.js';

/**
 * The plan `diff(desired, live, { fields: false })` makes when it changes nothing, found while the live
 * objects are seen one at a time (none is kept): `see` answers false at the first object the diff would
 * read the content of (`needsContent`), and `plan` is null when that happened or a desired object was not
 * seen (a create). At 100,000 objects the live summaries and the diff's maps held at once were a third of
 * serve's restart peak; this holds the desired hashes and the few notes.
 */
export class UnchangedCheck {
  private readonly hashes = new ByKindAndName<string>();
  private readonly notes: PlanNote[] = [];
  private desiredSeen = 0;
  private liveManaged = 0;
  private changed = false;

  private readonly desiredCount: number;
  private readonly revision: string;
  private readonly warnings: readonly string[];

  /**
   * The desired side: loaded manifests, or the validated revision cache's index. Only their hashes are kept,
   * so an index's entries can go before the live objects are read.
   */
  constructor(desired: DiffDesired | DesiredIndex) {
    this.revision = desired.revision;
    this.warnings = desired.warnings ?? [];
    if (desired instanceof DesiredIndex) {
      desired.forEach((kind, name, hash) => this.hashes.set(kind, name, hash));
      this.desiredCount = desired.size;
    } else {
      for (const m of desired.manifests) this.hashes.set(m.kind, m.metadata.name, hashOf(m));
      this.desiredCount = desired.manifests.length;
    }
  }

  /** One live object, in any order; false once the diff would plan a change. */
  see(o: DiffLive): boolean {
    if (this.changed) return false;
    const hash = this.hashes.get(o.kind, o.name);
    if (needsContent(o, hash)) {
      this.changed = true;
      return false;
    }
    if (o.managedBy === 'taskops') this.liveManaged++;
    if (hash === undefined) {
      // Not desired and not read: the diff only notes an object made through the API.
      this.notes.push({ kind: o.kind, name: o.name, reason: 'unmanaged', message: NOTE_MESSAGES.unmanaged });
      return true;
    }
    this.desiredSeen++;
    if (o.retiredAt)
      this.notes.push({ kind: o.kind, name: o.name, reason: 'retired', message: NOTE_MESSAGES.retired });
    return true;
  }

  /**
   * The diff's plan once every live object was seen, or null when it changes something. Each live object is
   * one (kind, name) (the store's key) and so is each desired one (the loader's and the index's checks): a
   * count of the desired ones seen tells whether any is missing. Duplicates would only make it null.
   */
  plan(): Plan | null {
    if (this.changed || this.desiredSeen !== this.desiredCount) return null;
    return {
      revision: this.revision,
      changes: [],
      notes: [...this.notes].sort(byKindThenName),
      summary: { create: 0, update: 0, delete: 0 },
      liveManaged: this.liveManaged,
      refused: null,
      warnings: this.warnings.map((message) => ({ object: null, message })),
    };
  }
}
