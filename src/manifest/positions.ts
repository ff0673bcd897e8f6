import { isCollection, isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from './types.js';

/** A document's syntax tree and the line offsets of its file. */
export interface DocumentTree {
  doc: Document;
  lineCounter: LineCounter;
  /** Where the tree's text starts in the file: a document composed from its own text (0 when absent). */
  shift?: number;
}

/**
 * Maps JSON-pointer-like paths inside one YAML document to line:col of the offending node.
 * The syntax tree can be released once the document is checked and rebuilt on demand: trees are
 * many times the size of the data, and only a problem found later (a reference) needs one again.
 */
export class DocumentPositions {
  private tree: DocumentTree | undefined;
  /** Kept past release(): a valid document's location (its manifest's source) must not cost a re-parse. */
  private readonly startAt: { offset: number; lineCounter: LineCounter } | undefined;

  constructor(
    readonly file: string,
    /** The tree as parsed; without it the first question rebuilds it. */
    tree: DocumentTree | undefined,
    /** Rebuilds the same document's tree (same text, same parse options); without it the tree is kept. */
    private readonly rebuild?: () => DocumentTree,
    /** Where the content starts, for a document read without a tree (plainDocument). */
    startAt?: { offset: number; lineCounter: LineCounter },
  ) {
    this.tree = tree;
    this.startAt = tree
      ? { offset: tree.doc.contents?.range?.[0] ?? 0, lineCounter: tree.lineCounter }
      : startAt;
  }

  /** Lets the syntax tree be collected; a later question re-parses the file's text once. */
  release(): void {
    if (this.rebuild) this.tree = undefined;
  }

  /** Where the document starts (its first content node). */
  start(): SourceLocation {
    if (this.startAt) return this.locationOf(this.startAt.offset, this.startAt.lineCounter);
    return this.at(this.current().doc.contents?.range?.[0] ?? 0);
  }

  /**
   * The value node at `path`; if absent, the nearest existing ancestor. `key: true` points at the key instead;
   * `textOffset` at that offset inside a string value (exact in block literals and one-line quoted strings).
   */
  locate(
    path: ReadonlyArray<string | number>,
    opts: { key?: boolean; textOffset?: number | undefined } = {},
  ): SourceLocation {
    let node: unknown = this.current().doc.contents;
    let best: Node | null = (node as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (!isCollection(node)) break;
      const pair = isMap(node)
        ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))
        : undefined;
      if (isMap(node)) {
        if (!pair) break;
        const isLast = i === path.length - 1;
        if (isLast && opts.key && isPair(pair) && pair.key) return this.nodeLocation(pair.key as Node);
        node = pair.value;
      } else {
        node = node.items[Number(segment)];
      }
      if (node && (node as Node).range) best = node as Node;
    }
    if (best && opts.textOffset !== undefined && best === node) return this.inText(best, opts.textOffset);
    return best ? this.nodeLocation(best) : this.start();
  }

  /** An offset inside a scalar's text, as a file position where the text maps to the source one to one. */
  private inText(node: Node, offset: number): SourceLocation {
    const at = this.nodeLocation(node);
    if (!isScalar(node) || typeof node.value !== 'string') return at;
    const before = node.value.slice(0, offset);
    if (node.type === 'BLOCK_LITERAL') {
      const lines = before.split('\n');
      // The content starts on the line after the `|`, indented one step (2) past the key's column.
      const keyCol = Math.max(1, at.col - 'payload: '.length);
      return { file: at.file, line: at.line + lines.length, col: keyCol + 2 + lines.at(-1)!.length };
    }
    const oneToOne =
      !node.value.includes('\n') &&
      ((node.type === 'QUOTE_SINGLE' && !before.includes("'")) ||
        (node.type === 'QUOTE_DOUBLE' && !/["\\]/.test(before)) ||
        node.type === 'PLAIN');
    const quote = node.type === 'PLAIN' ? 0 : 1;
    return oneToOne ? { ...at, col: at.col + quote + offset } : at;
  }

  nodeLocation(node: Node): SourceLocation {
    return this.at(node.range?.[0] ?? 0);
  }

  private current(): DocumentTree {
    return (this.tree ??= this.rebuild!());
  }

  private at(offset: number): SourceLocation {
    const tree = this.current();
    return this.locationOf(offset + (tree.shift ?? 0), tree.lineCounter);
  }

  private locationOf(offset: number, lineCounter: LineCounter): SourceLocation {
    const { line, col } = lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }
}
