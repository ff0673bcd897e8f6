/** Strings this short are shared: kinds, zones, units, actions recur in every manifest; longer ones rarely do. */
const SHARED_LENGTH = 40;
/** Beyond this many distinct values the rest are left as they are: a set of unique names gains nothing. */
const MAX_SHARED = 50_000;

/**
 * One copy of each short string value across a load's manifests. Metadata read back from a check thread's
 * JSON holds a string of its own for every value, and label values recur across objects; held until the
 * load's state is let go. Values change place only, never content.
 */
export class StringTable {
  private readonly strings = new Map<string, string>();

  /** Replaces, in place, every short string value in `value`'s objects and arrays by its shared copy. */
  share(value: object): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.shared(value[i]);
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      // An own `__proto__` must not be assigned: that would set the prototype.
      if (key !== '__proto__') record[key] = this.shared(record[key]);
    }
  }

  private shared(v: unknown): unknown {
    if (typeof v === 'string') {
      if (v.length > SHARED_LENGTH) return v;
      const known = this.strings.get(v);
      if (known !== undefined) return known;
      if (this.strings.size < MAX_SHARED) this.strings.set(v, v);
      return v;
    }
    // Nesting is bounded by the loader's depth limit (LIMITS.maxDepth).
    if (v !== null && typeof v === 'object') this.share(v);
    return v;
  }
}
