import { contentHash } from '../text/content-hash.js';
import { API_VERSION, type Kind, type LoadedManifest } from './types.js';

/**
 * Manifests as a check thread hands them back: one column per field, the metadata and spec as their JSON
 * text. A structured clone of a few long arrays of strings costs a twentieth of one of 1,000 object trees,
 * and the spec stays text until something reads it: at 100,000 schedules, nothing on the loading thread
 * does before the store keeps that very text.
 */
export interface PackedManifests {
  kinds: Kind[];
  metadata: string[];
  /** JSON.stringify of each spec: what the store keeps. */
  specs: string[];
  /** contentHash of each manifest, made where it was read. */
  hashes: string[];
  /** The document's index in its file (to locate later problems). */
  indexes: number[];
  /** The document's offset when it composes on its own (then only it is parsed again to locate one), else -1. */
  offsets: number[];
  lines: number[];
  cols: number[];
}

export const noManifests = (): PackedManifests => ({
  kinds: [],
  metadata: [],
  specs: [],
  hashes: [],
  indexes: [],
  offsets: [],
  lines: [],
  cols: [],
});

/** Adds a valid manifest of document `index` (at `offset`, if it composes alone) to the columns. */
export function pack(
  into: PackedManifests,
  m: LoadedManifest,
  index: number,
  offset: number | undefined,
): void {
  into.kinds.push(m.kind);
  into.metadata.push(JSON.stringify(m.metadata));
  into.specs.push(JSON.stringify(m.spec));
  into.hashes.push(contentHash(m.metadata, m.spec));
  into.indexes.push(index);
  into.offsets.push(offset ?? -1);
  into.lines.push(m.source.line);
  into.cols.push(m.source.col);
}

/** The spec's JSON text a manifest was read from, and the content hash made with it. */
const STORED = Symbol('stored form');
/** The object a view's spec is read from. */
const VIEW_OF = Symbol('view of');

interface Stored {
  spec: unknown;
  [STORED]?: { text: string; hash: string } | undefined;
  [VIEW_OF]?: Stored;
}

const hidden = (o: object, key: symbol, value: unknown) =>
  Object.defineProperty(o, key, { value, enumerable: false, configurable: true, writable: true });

/** Replaces the accessor by the value, as a plain data property: later reads cost nothing. */
const settle = (o: Stored, value: unknown) =>
  Object.defineProperty(o, 'spec', { value, enumerable: true, configurable: true, writable: true });

/**
 * A spec read on first access by `read` and then kept as a plain data property; setting one drops `link` (the
 * text or the source it would otherwise be read from, which no longer matches). One descriptor object for
 * every manifest: no closure each.
 */
const lazySpec = (read: (o: Stored) => unknown, link: symbol): PropertyDescriptor => ({
  get(this: Stored) {
    const spec = read(this);
    settle(this, spec);
    return spec;
  },
  set(this: Stored, value: unknown) {
    hidden(this, link, undefined);
    settle(this, value);
  },
  enumerable: true,
  configurable: true,
});

/** A manifest's spec, parsed from its text. */
const SPEC_FROM_TEXT = lazySpec((o) => JSON.parse(o[STORED]!.text), STORED);
/** A view's spec: its source's, read (and parsed, once) only when the view's is. */
const SPEC_OF_SOURCE = lazySpec((o) => o[VIEW_OF]!.spec, VIEW_OF);

/** The manifests of one file from their columns, each spec left as text until it is read. */
export function unpack(packed: PackedManifests, file: string): LoadedManifest[] {
  const out: LoadedManifest[] = [];
  for (let i = 0; i < packed.kinds.length; i++) {
    const m = { apiVersion: API_VERSION, kind: packed.kinds[i]!, metadata: JSON.parse(packed.metadata[i]!) };
    hidden(m, STORED, { text: packed.specs[i]!, hash: packed.hashes[i]! });
    Object.defineProperty(m, 'spec', SPEC_FROM_TEXT);
    (m as Record<string, unknown>).source = { file, line: packed.lines[i]!, col: packed.cols[i]! };
    out.push(m as LoadedManifest);
  }
  return out;
}

/** Whether the spec is still only text (nothing has read it yet). */
const unread = (o: object): boolean => Object.getOwnPropertyDescriptor(o, 'spec')?.get !== undefined;

/**
 * `target` with the spec of `source`: when that is still unread text, read only once the target's is (a plan
 * of 100,000 creates then holds no spec the apply does not need), with the same text (specTextOf).
 */
export function withSpecOf<T extends object>(target: T, source: { spec: unknown }): T & { spec: unknown } {
  if (specTextOf(source) === undefined) return Object.assign(target, { spec: source.spec });
  hidden(target, VIEW_OF, source);
  if (!unread(source)) return Object.assign(target, { spec: source.spec });
  return Object.defineProperty(target, 'spec', SPEC_OF_SOURCE) as T & { spec: unknown };
}

/**
 * The JSON text of the spec, exactly as the loader made it (JSON.stringify of the spec), when `o` was read
 * from it or is a view of one that was; undefined otherwise (then JSON.stringify(o.spec) is the same text).
 */
export function specTextOf(o: object): string | undefined {
  const stored = o as Stored;
  return stored[STORED]?.text ?? (stored[VIEW_OF] ? specTextOf(stored[VIEW_OF]) : undefined);
}

/** The content hash the check thread made of a manifest it read, while its spec is still that one's. */
export const storedHashOf = (m: object): string | undefined => (m as Stored)[STORED]?.hash;
