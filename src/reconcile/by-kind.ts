import type { Kind } from '../manifest/types.js';

/**
 * Values by kind, then name: no `Kind/name` key string to build and hash per object, which a diff of
 * 100,000s of objects did several times over.
 */
export class ByKindAndName<T> {
  private readonly byKind = new Map<Kind, Map<string, T>>();

  set(kind: Kind, name: string, value: T): void {
    let names = this.byKind.get(kind);
    if (!names) this.byKind.set(kind, (names = new Map()));
    names.set(name, value);
  }

  get(kind: Kind, name: string): T | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  has(kind: Kind, name: string): boolean {
    return this.byKind.get(kind)?.has(name) ?? false;
  }
}
