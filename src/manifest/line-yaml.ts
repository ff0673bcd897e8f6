import { LIMITS } from './limits.js';
import { typedPlain as typedPlainOf } from './plain-yaml.js';

/*
 * yaml's Lexer and Parser make a token for every indicator, space and line break, through generators: with
 * 110,000 manifests that is most of a first start's CPU, before a single value exists. Manifests written by
 * yaml's own writer or by hand are mostly lines of `key: value`, `key:` and `- item` in ASCII, and for those
 * the value follows from each line's indentation and a few characters. This reader takes only a narrow
 * subset of what plainDocument takes (one-line plain, single- and double-quoted scalars without escapes,
 * one-line flow collections, literal blocks, comments), and a whole file or nothing: anything else (non-ASCII
 * text, tabs, folded blocks, continuation lines, anchors, tags, quoted keys, directives, empty documents,
 * long lines) makes it answer null and the file goes to the CST reader, then to the Composer.
 * test/manifest/plain-yaml.test.ts holds it to the Composer's values and places on every example, fixture
 * and a fuzzed corpus.
 */

/** One document: its value, where it starts (its `---` or first line) and where its value starts. */
export interface LineDocument {
  value: unknown;
  offset: number;
  valueOffset: number;
}

class NotLines extends Error {}
const notLines = new NotLines();
const reject = (): never => {
  throw notLines;
};
const typedPlain = (text: string): unknown => typedPlainOf(text, reject);

/** Only printable ASCII and line feeds: no tabs, carriage returns, BOM, control or non-ASCII characters. */
const OUTSIDE_SUBSET = /[^\n\x20-\x7e]/;
/** A key: plain, one word of these characters (sticky: matched at an offset). */
const KEY = /[A-Za-z0-9_][A-Za-z0-9_./-]*/y;
/**
 * The Composer refuses an implicit key whose `:` is over 1,024 characters from where it counts the key's
 * start; this reader counts from a point never later than that one and leaves a margin.
 */
const MAX_KEY_SPAN = 1000;

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const PLUS = 0x2b;
const PIPE = 0x7c;
const QUESTION = 0x3f;
const COLON = 0x3a;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const COMMA = 0x2c;
const OPEN_SEQ = 0x5b;
const CLOSE_SEQ = 0x5d;
const OPEN_MAP = 0x7b;
const CLOSE_MAP = 0x7d;

/** First characters of a YAML indicator: a plain scalar starts with one only as indicatorScalar allows. */
const INDICATOR = new Uint8Array(128);
for (const c of '-?:,[]{}#&*!|>\'"%@`') INDICATOR[c.charCodeAt(0)] = 1;
/** Characters inside a one-line flow collection's plain scalar that leave the collection to the CST reader. */
const FLOW_SPECIAL = new Uint8Array(128);
for (const c of '[]{}#:') FLOW_SPECIAL[c.charCodeAt(0)] = 1;
const FLOW_INDICATOR_OR_SPACE = new Uint8Array(128);
for (const c of ' ,[]{}') FLOW_INDICATOR_OR_SPACE[c.charCodeAt(0)] = 1;

/**
 * A map key that is a string not yet in `out` (a duplicate is the Composer's error); `__proto__` is left to
 * yaml, which defines it as a property.
 */
function newKey(name: string, out: object): string {
  return name !== '__proto__' && !Object.hasOwn(out, name) && typeof typedPlain(name) === 'string'
    ? name
    : reject();
}

/** The documents of `text` if every one is in this reader's subset, else null. */
export function lineDocuments(text: string): LineDocument[] | null {
  if (OUTSIDE_SUBSET.test(text)) return null;
  try {
    return new LineReader(text).documents();
  } catch (err) {
    if (err === notLines) return null;
    throw err;
  }
}

type LineKind = 'content' | 'separator' | 'end';

/** A cursor over the text's lines that stops at content lines and `---` separators, past blanks and comments. */
class LineReader {
  /** The current line: [start, end) without its line feed; `at` is its first non-space character. */
  private start = 0;
  private end = 0;
  private at = 0;
  private indent = 0;
  private kind: LineKind = 'end';
  private next = 0;
  /** Whether a content line or separator has been seen (indented comments before one are refused). */
  private seenContent = false;

  constructor(private readonly text: string) {
    this.advance();
  }

  documents(): LineDocument[] | null {
    const docs: LineDocument[] = [];
    let separator = -1;
    for (;;) {
      if (this.kind === 'end') break;
      if (this.kind === 'separator') {
        // Two separators in a row make an empty document: the Composer's to judge.
        if (separator >= 0) reject();
        separator = this.start;
        this.advance();
        continue;
      }
      if (docs.length === LIMITS.maxDocumentsPerFile) reject();
      // Without a `---`, the Parser starts the first document at its line's indentation: kept out.
      if (separator < 0 && this.indent > 0) reject();
      const valueOffset = this.at;
      const value = this.block(this.indent, 1);
      docs.push({ value, offset: separator >= 0 ? separator : valueOffset, valueOffset });
      separator = -1;
      // A line the document's block did not take (less indented, or of another kind) is an error.
      if (this.kind === 'content') reject();
    }
    // A trailing `---` opens an empty document.
    if (separator >= 0) reject();
    return docs.length > 0 ? docs : null;
  }

  /** Moves to the next content line or separator, or to the end. */
  private advance(): void {
    const text = this.text;
    while (this.next <= text.length) {
      const start = this.next;
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.next = end + 1;
      let at = start;
      while (at < end && text.charCodeAt(at) === SPACE) at++;
      if (at === end) continue;
      if (text.charCodeAt(at) === HASH) {
        // Indented comments before the first document: where the Parser puts them is not this reader's to say.
        if (!this.seenContent && at > start) reject();
        continue;
      }
      this.start = start;
      this.end = end;
      this.at = at;
      this.indent = at - start;
      if (
        at === start &&
        text.startsWith('---', at) &&
        (end === at + 3 || text.charCodeAt(at + 3) === SPACE)
      ) {
        // `---` alone, or with a comment after it; anything else on its line is the Composer's.
        this.tail(at + 3);
        this.kind = 'separator';
        this.seenContent = true;
        return;
      }
      // A document end marker or a directive.
      if (at === start && (text.startsWith('...', at) || text.charCodeAt(at) === 0x25)) reject();
      this.kind = 'content';
      this.seenContent = true;
      return;
    }
    this.kind = 'end';
  }

  private isSeqItem(): boolean {
    return this.isSeqItemAt(this.at);
  }

  /** A `-` followed by a space or the line's end: a sequence item's indicator. */
  private isSeqItemAt(at: number): boolean {
    return (
      this.text.charCodeAt(at) === DASH && (at + 1 === this.end || this.text.charCodeAt(at + 1) === SPACE)
    );
  }

  /** The block collection starting on the current line, at column `indent`. */
  private block(indent: number, depth: number): unknown {
    return this.isSeqItem() ? this.seq(indent, depth, this.at) : this.map(indent, depth, this.at);
  }

  /** A block map whose entries start at column `col`, the first one at `keyAt` of the current line. */
  private map(col: number, depth: number, keyAt: number): Record<string, unknown> {
    if (depth >= LIMITS.maxDepth) reject();
    const text = this.text;
    const out: Record<string, unknown> = {};
    // The earliest point the Composer may count the next key from (see MAX_KEY_SPAN).
    let keyBound = this.start;
    for (;;) {
      const colon = this.keyEnd(keyAt);
      if (colon < 0 || colon - keyBound > MAX_KEY_SPAN) reject();
      const name = newKey(text.slice(keyAt, colon), out);
      const valueAt = this.skipSpaces(colon + 1);
      if (valueAt === this.end || text.charCodeAt(valueAt) === HASH) {
        this.advance();
        if (this.kind === 'content' && this.indent > col) out[name] = this.block(this.indent, depth + 1);
        else if (this.kind === 'content' && this.indent === col && this.isSeqItem())
          out[name] = this.seq(col, depth + 1, this.at);
        else out[name] = null;
        keyBound = colon + 1;
      } else {
        // After a literal block the Composer may count from its `:`, as after a collection.
        keyBound = text.charCodeAt(valueAt) === PIPE ? colon + 1 : valueAt;
        out[name] = this.valueOnLine(valueAt, col, depth + 1);
      }
      if (this.kind !== 'content' || this.indent < col) return out;
      // A list item where the map's next key should be.
      if (this.indent > col || this.isSeqItem()) reject();
      keyAt = this.at;
    }
  }

  /** Where the key at `at` ends, on a `:` followed by a space or the line's end; -1 if no key is there. */
  private keyEnd(at: number): number {
    KEY.lastIndex = at;
    if (!KEY.test(this.text)) return -1;
    const colon = KEY.lastIndex;
    if (colon >= this.end || this.text.charCodeAt(colon) !== COLON) return -1;
    return colon + 1 === this.end || this.text.charCodeAt(colon + 1) === SPACE ? colon : -1;
  }

  /** A block sequence whose `-` indicators stand at column `col`, the first one at `dashAt` of the current line. */
  private seq(col: number, depth: number, dashAt: number): unknown[] {
    if (depth >= LIMITS.maxDepth) reject();
    const text = this.text;
    const out: unknown[] = [];
    for (;;) {
      const valueAt = this.skipSpaces(dashAt + 1);
      if (valueAt === this.end || text.charCodeAt(valueAt) === HASH) {
        this.advance();
        out.push(this.kind === 'content' && this.indent > col ? this.block(this.indent, depth + 1) : null);
      } else if (this.isSeqItemAt(valueAt)) {
        // `- - item`: a sequence whose items stand where this first one does.
        out.push(this.seq(valueAt - this.start, depth + 1, valueAt));
      } else if (this.keyEnd(valueAt) >= 0) {
        // `- key: value`: a map whose keys stand where this first one does.
        out.push(this.map(valueAt - this.start, depth + 1, valueAt));
      } else {
        out.push(this.valueOnLine(valueAt, col, depth + 1));
      }
      if (this.kind !== 'content' || this.indent < col) return out;
      if (this.indent > col) reject();
      // A key at the sequence's column ends it: the sequence was that map's entry's value (`key:\n- a`).
      if (!this.isSeqItem()) return out;
      dashAt = this.at;
    }
  }

  /**
   * The value from `at` of the current line, of an entry or item whose key or `-` stands at column `col`: a
   * literal block (which takes the lines below), or a scalar or flow collection on the line. Leaves the
   * cursor on the next line.
   */
  private valueOnLine(at: number, col: number, depth: number): unknown {
    if (this.text.charCodeAt(at) === PIPE) return this.literal(at, col);
    const value = this.inline(at, depth);
    this.advance();
    // A more indented line after a scalar continues it (a multi-line scalar) or is an error.
    if (this.kind === 'content' && this.indent > col) reject();
    return value;
  }

  /**
   * A literal block scalar (`|`, `|-`, `|+`) whose header is at `at`, under an entry or item at column `col`:
   * the lines below indented as its first non-empty one, without that indentation, joined by line feeds and
   * chomped as the header says. An indentation indicator, an empty block, a blank line of more spaces than
   * the block's indentation, or a block ending the text without a line feed is the CST reader's.
   */
  private literal(at: number, col: number): string {
    const text = this.text;
    let i = at + 1;
    const chomp = text.charCodeAt(i);
    if (chomp === DASH || chomp === PLUS) i++;
    this.tail(i);
    const lines: string[] = [];
    let indent = -1;
    let blanks = 0;
    let blankSpaces = 0;
    let lineStart = this.next;
    while (lineStart < text.length) {
      const end = text.indexOf('\n', lineStart);
      if (end < 0) reject();
      let first = lineStart;
      while (first < end && text.charCodeAt(first) === SPACE) first++;
      const spaces = first - lineStart;
      if (first === end) {
        blankSpaces = Math.max(blankSpaces, spaces);
        blanks++;
        lineStart = end + 1;
        continue;
      }
      if (indent < 0) {
        if (spaces <= col) break;
        indent = spaces;
      } else if (spaces < indent) break;
      if (blankSpaces > indent) reject();
      for (; blanks > 0; blanks--) lines.push('');
      blankSpaces = 0;
      lines.push(text.slice(lineStart + indent, end));
      lineStart = end + 1;
    }
    if (indent < 0 || blankSpaces > indent) reject();
    this.next = lineStart;
    this.advance();
    if (this.kind === 'content' && this.indent > col) reject();
    const body = lines.join('\n');
    if (chomp === DASH) return body;
    return chomp === PLUS ? `${body}\n${'\n'.repeat(blanks)}` : `${body}\n`;
  }

  /** A value on the rest of the current line from `at`: a scalar or a flow collection. */
  private inline(at: number, depth: number): unknown {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const [value, after] = this.quoted(at);
      this.tail(after);
      return value;
    }
    if (c === OPEN_SEQ || c === OPEN_MAP) {
      const [value, after] = this.flow(at, depth);
      this.tail(after);
      return value;
    }
    if (INDICATOR[c] && !this.indicatorScalar(at)) reject();
    let stop = this.end;
    for (let i = at + 1; i < this.end; i++) {
      if (text.charCodeAt(i) === HASH && text.charCodeAt(i - 1) === SPACE) {
        stop = i;
        break;
      }
    }
    while (text.charCodeAt(stop - 1) === SPACE) stop--;
    const plain = text.slice(at, stop);
    // `a: b: c` is a nested map on one line, an error; `a: b:` likewise.
    if (plain.includes(': ') || plain.endsWith(':')) reject();
    return typedPlain(plain);
  }

  /** A quoted scalar on the current line from `at`: its value and the offset after its closing quote. */
  private quoted(at: number): [string, number] {
    const text = this.text;
    const quote = text.charCodeAt(at);
    if (quote === DOUBLE_QUOTE) {
      const close = text.indexOf('"', at + 1);
      if (close < 0 || close >= this.end) reject();
      const value = text.slice(at + 1, close);
      // Escapes are the CST reader's.
      if (value.includes('\\')) reject();
      return [value, close + 1];
    }
    for (let i = at + 1; ;) {
      const close = text.indexOf("'", i);
      if (close < 0 || close >= this.end) reject();
      if (close + 1 < this.end && text.charCodeAt(close + 1) === SINGLE_QUOTE) {
        i = close + 2;
        continue;
      }
      return [text.slice(at + 1, close).replaceAll("''", "'"), close + 1];
    }
  }

  /** After a value: nothing, spaces, or spaces and a comment. */
  private tail(at: number): void {
    const i = this.skipSpaces(at);
    if (i === this.end) return;
    if (i > at && this.text.charCodeAt(i) === HASH) return;
    reject();
  }

  /**
   * A flow sequence or map on one line (`[a, b]`, `{ k: [v] }`, `[]`) from `at`: its value and the offset
   * after its closing bracket.
   */
  private flow(at: number, depth: number): [unknown, number] {
    if (depth >= LIMITS.maxDepth) reject();
    const text = this.text;
    const isMap = text.charCodeAt(at) === OPEN_MAP;
    const close = isMap ? CLOSE_MAP : CLOSE_SEQ;
    const list: unknown[] = [];
    const record: Record<string, unknown> = {};
    let i = this.skipSpaces(at + 1);
    if (text.charCodeAt(i) === close && i < this.end) return [isMap ? record : list, i + 1];
    for (;;) {
      let name = '';
      if (isMap) {
        KEY.lastIndex = i;
        if (!KEY.test(text)) reject();
        const colon = KEY.lastIndex;
        if (text.charCodeAt(colon) !== COLON || text.charCodeAt(colon + 1) !== SPACE || colon + 1 >= this.end)
          reject();
        name = newKey(text.slice(i, colon), record);
        i = this.skipSpaces(colon + 1);
      }
      let value: unknown;
      const c = text.charCodeAt(i);
      if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
        [value, i] = this.quoted(i);
      } else if (c === OPEN_SEQ || c === OPEN_MAP) {
        [value, i] = this.flow(i, depth + 1);
      } else {
        if (i >= this.end || (INDICATOR[c] && !this.indicatorScalar(i))) reject();
        let j = i;
        for (; j < this.end; j++) {
          const d = text.charCodeAt(j);
          if (d === COMMA || d === close) break;
          if (FLOW_SPECIAL[d]) reject();
        }
        let stop = j;
        while (text.charCodeAt(stop - 1) === SPACE) stop--;
        value = typedPlain(text.slice(i, stop));
        i = j;
      }
      if (isMap) record[name] = value;
      else list.push(value);
      i = this.skipSpaces(i);
      if (i >= this.end) reject();
      const d = text.charCodeAt(i);
      if (d === COMMA) {
        i = this.skipSpaces(i + 1);
        // A trailing comma or an empty item.
        if (i >= this.end || text.charCodeAt(i) === close || text.charCodeAt(i) === COMMA) reject();
        continue;
      }
      if (d !== close) reject();
      return [isMap ? record : list, i + 1];
    }
  }

  /** A plain scalar may start with `-`, `?` or `:` followed by a character that is not a space (`-2`, `?q`). */
  private indicatorScalar(at: number): boolean {
    const c = this.text.charCodeAt(at);
    if (c !== DASH && c !== QUESTION && c !== COLON) return false;
    return at + 1 < this.end && !FLOW_INDICATOR_OR_SPACE[this.text.charCodeAt(at + 1)];
  }

  private skipSpaces(at: number): number {
    let i = at;
    while (i < this.end && this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }
}
