import { isCollection, isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from './types.js';

/**
 * Maps JSON-pointer-like paths inside one YAML document to line:col of the offending node.
 * The syntax tree can be released once the document is checked and rebuilt on demand: trees are
 * many times the size of the data, and only a problem found later (a reference) needs one again.
 */
export class DocumentPositions {
  private doc: Document | undefined;
  private readonly startOffset: number;

  constructor(
    readonly file: string,
    doc: Document,
    private readonly lineCounter: LineCounter,
    /** Rebuilds the same document's tree (same text, same parse options); without it the tree is kept. */
    private readonly reparse?: () => Document,
  ) {
    this.doc = doc;
    this.startOffset = doc.contents?.range?.[0] ?? 0;
  }

  /** Lets the syntax tree be collected; a later locate() re-parses the file's text once. */
  release(): void {
    if (this.reparse) this.doc = undefined;
  }

  /** Where the document starts (its first content node). */
  start(): SourceLocation {
    return this.at(this.startOffset);
  }

  /** The value node at `path`; if absent, the nearest existing ancestor. `key: true` points at the key instead. */
  locate(path: ReadonlyArray<string | number>, opts: { key?: boolean } = {}): SourceLocation {
    let node: unknown = this.tree().contents;
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
    return best ? this.nodeLocation(best) : this.start();
  }

  nodeLocation(node: Node): SourceLocation {
    return this.at(node.range?.[0] ?? 0);
  }

  private tree(): Document {
    return (this.doc ??= this.reparse!());
  }

  private at(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }
}
