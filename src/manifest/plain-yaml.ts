import { CST, Schema, isScalar, type ParseOptions, type ScalarTag } from 'yaml';
import { LIMITS } from './limits.js';

/** What plainDocument answers for a document outside its subset: the Composer decides that one. */
export const NOT_PLAIN = Symbol('not plain');

/*
 * yaml's Composer builds a node tree (scalars, pairs, maps with their ranges and comments) that the loader
 * turns into plain values at once: half of a large repository's parse. Most manifests are block maps and
 * sequences of scalars, and for those the value follows from yaml's own syntax tree (its CST) directly. The
 * rules here accept only documents on which the Composer reports no error, and give the value its toJS()
 * gives (test/manifest/plain-yaml.test.ts compares the two on every example, fixture and a fuzzed corpus);
 * anything else (flow collections over several lines, anchors, aliases, tags, explicit or quoted keys, tabs,
 * directives, a duplicate key, deep nesting) is NOT_PLAIN.
 */

/** The core schema's tags that a plain scalar is tested against, in yaml's order (YAML 1.2, yaml's default). */
const PLAIN_TAGS: ScalarTag[] = (new Schema({}).tags as ScalarTag[]).filter(
  (tag) => tag.default === true && tag.test !== undefined && !('collection' in tag && tag.collection),
);
/** The parse options the loader's Composer uses for scalars: yaml's defaults (numbers, never BigInt). */
const SCALAR_OPTIONS: ParseOptions = {};

class NotPlain extends Error {}
const notPlain = new NotPlain();
const reject = (): never => {
  throw notPlain;
};

type Token = CST.Token;
type SourceToken = CST.SourceToken;

/**
 * The value of one CST document token, or NOT_PLAIN. `text` is the file's text (a comment must follow white
 * space, as the Composer requires).
 */
export function plainDocument(doc: CST.Document, text: string): unknown {
  try {
    if (!doc.value) return NOT_PLAIN;
    let docStart = false;
    let newlineAfterStart = false;
    for (const token of doc.start) {
      if (token.type === 'doc-start') {
        if (docStart) reject();
        docStart = true;
      } else {
        if (token.type === 'newline' && docStart) newlineAfterStart = true;
        filler(token, text);
      }
    }
    // The Composer refuses a block collection on the `---` line; a scalar there is rare enough to leave to it.
    if (docStart && !newlineAfterStart) reject();
    for (const token of doc.end ?? []) filler(token, text);
    return value(doc.value, text, 0);
  } catch (err) {
    if (err === notPlain) return NOT_PLAIN;
    throw err;
  }
}

/** Space, a line break or a comment that follows white space: what may stand between the parts. */
function filler(token: SourceToken, text: string): void {
  // A tab in indentation is an error or a warning depending on where it stands: the Composer decides.
  if ((token.type === 'space' || token.type === 'newline') && !token.source.includes('\t')) return;
  if (token.type === 'comment' && (token.offset === 0 || /[ \n]/.test(text[token.offset - 1]!))) return;
  reject();
}

function value(token: Token, text: string, depth: number): unknown {
  switch (token.type) {
    case 'scalar':
      return plainScalar(token);
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'block-scalar':
      return scalarText(token);
    case 'block-map':
      return map(token, text, depth + 1);
    case 'block-seq':
      return seq(token, text, depth + 1);
    case 'flow-collection':
      return flow(token, text, depth + 1);
    default:
      return reject();
  }
}

/** A scalar's text as the Composer resolves it (folding, escapes, block headers); any complaint rejects. */
function scalarText(token: CST.FlowScalar | CST.BlockScalar): string {
  const resolved = CST.resolveAsScalar(token, true, reject);
  if (!resolved || token.source.includes('\t')) return reject();
  return resolved.value;
}

/** A plain scalar is typed by the first core tag whose pattern it matches (null, bool, int, float), else a string. */
function plainScalar(token: CST.FlowScalar): unknown {
  return typedPlain(scalarText(token));
}

/** A plain scalar's text typed as the core schema types it; `refuse` is called where yaml would complain. */
export function typedPlain(text: string, refuse: () => never = reject): unknown {
  for (const tag of PLAIN_TAGS) {
    if (!tag.test!.test(text)) continue;
    const resolved: unknown = tag.resolve(text, refuse, SCALAR_OPTIONS);
    return isScalar(resolved) ? resolved.value : resolved;
  }
  return text;
}

function map(token: CST.BlockMap, text: string, depth: number): Record<string, unknown> {
  if (depth > LIMITS.maxDepth) reject();
  const out: Record<string, unknown> = {};
  const items = token.items;
  for (let i = 0; i < items.length; i++) {
    const { start, key, sep, value: item } = items[i]!;
    for (const t of start) filler(t, text);
    if (!key && !sep && !item) {
      // A comment after the last entry; elsewhere the Composer complains.
      if (i !== items.length - 1) reject();
      continue;
    }
    if (!key || key.type !== 'scalar' || key.indent !== token.indent || !sep) return reject();
    const name = entryName(key, out);
    let indicator: SourceToken | undefined;
    let newline = false;
    for (const t of sep) {
      if (t.type === 'map-value-ind') {
        if (indicator) reject();
        indicator = t;
      } else {
        if (t.type === 'newline') newline = true;
        filler(t, text);
      }
    }
    // The Composer refuses a `:` over 1,024 characters after where it says the key starts, and a block
    // collection on the key's own line.
    if (!indicator || indicator.offset - keyStart(items, i, token.offset) > 1024) reject();
    if (item && (item.type === 'block-map' || item.type === 'block-seq') && !newline) reject();
    out[name] = item ? value(item, text, depth) : null;
  }
  return out;
}

/**
 * Where yaml's Composer counts entry `i`'s key from (or earlier, never later): the end of the tokens before
 * the key, else the end of the previous entry's value. That end is exact for a scalar (its text and what
 * follows it on the line); for an empty value or a collection, whose end the Composer may place early (just
 * after a `:` whose value is empty), it is taken as just after the previous entry's `:`.
 */
function keyStart(items: CST.BlockMap['items'], i: number, mapOffset: number): number {
  const { start } = items[i]!;
  const last = start[start.length - 1];
  if (last) return last.offset + last.source.length;
  if (i === 0) return mapOffset;
  const previous = items[i - 1]!;
  const value = previous.value;
  if (
    value &&
    (value.type === 'scalar' ||
      value.type === 'single-quoted-scalar' ||
      value.type === 'double-quoted-scalar')
  ) {
    let end = value.offset + value.source.length;
    for (const t of value.end ?? []) end += t.source.length;
    return end;
  }
  const indicator = previous.sep?.find((t) => t.type === 'map-value-ind');
  return indicator ? indicator.offset + 1 : mapOffset;
}

/**
 * A map entry's key: one-line, plain, resolving to a string, not yet in `out` (a duplicate is the Composer's
 * error); `__proto__` is left to yaml, which defines it as a property.
 */
function entryName(key: CST.FlowScalar, out: object): string {
  if (key.source.includes('\n') || key.source === '__proto__') reject();
  const name = plainScalar(key);
  return typeof name === 'string' && !Object.hasOwn(out, name) ? name : reject();
}

function seq(token: CST.BlockSequence, text: string, depth: number): unknown[] {
  if (depth > LIMITS.maxDepth) reject();
  const out: unknown[] = [];
  const items = token.items;
  for (let i = 0; i < items.length; i++) {
    const { start, value: item } = items[i]!;
    let indicator = false;
    for (const t of start) {
      if (t.type === 'seq-item-ind') {
        if (indicator) reject();
        indicator = true;
      } else filler(t, text);
    }
    if (!indicator) {
      if (item || i !== items.length - 1) reject();
      continue;
    }
    out.push(item ? value(item, text, depth) : null);
  }
  return out;
}

/**
 * A flow sequence or map on one line (`[a, b]`, `{ env: NAME }`): one comma between items, no trailing or
 * empty item, no pairs in a sequence, every map entry with a plain key and a value. On one line the
 * Composer's indentation rules for flow collections cannot apply.
 */
function flow(token: CST.FlowCollection, text: string, depth: number): unknown {
  if (depth > LIMITS.maxDepth) reject();
  const isMap = token.start.source === '{';
  const [close, ...after] = token.end;
  if (!close || close.source !== (isMap ? '}' : ']')) return reject();
  if (/[\n\r\t]/.test(text.slice(token.offset, close.offset))) reject();
  for (const t of after) filler(t, text);
  const out: unknown[] | Record<string, unknown> = isMap ? {} : [];
  const items = token.items;
  for (let i = 0; i < items.length; i++) {
    const { start, key, sep, value: item } = items[i]!;
    let commas = 0;
    for (const t of start) {
      if (t.type === 'comma') commas++;
      else if (t.type !== 'space') reject();
    }
    if (commas !== (i === 0 ? 0 : 1) || !item) reject();
    if (!isMap) {
      if (key || sep) reject();
      (out as unknown[]).push(inFlow(item!, text, depth));
      continue;
    }
    if (!key || key.type !== 'scalar' || !sep) return reject();
    const name = entryName(key, out);
    let indicators = 0;
    for (const t of sep) {
      if (t.type === 'map-value-ind') indicators++;
      else if (t.type !== 'space') reject();
    }
    if (indicators !== 1) reject();
    (out as Record<string, unknown>)[name] = inFlow(item!, text, depth);
  }
  return out;
}

/** Block collections are not allowed inside flow collections. */
function inFlow(token: Token, text: string, depth: number): unknown {
  return token.type === 'block-map' || token.type === 'block-seq' ? reject() : value(token, text, depth);
}
