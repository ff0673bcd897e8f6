import { isCollection, isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from './types.js';

/** Maps JSON-pointer-like paths inside one YAML document to line:col of the offending node. */
export class DocumentPositions {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Where the document starts (its first content node). */
  start(): SourceLocation {
    return this.at(this.doc.contents?.range?.[0] ?? 0);
  }

  /** The value node at `path`; if absent, the nearest existing ancestor. `key: true` points at the key instead. */
  locate(path: ReadonlyArray<string | number>, opts: { key?: boolean } = {}): SourceLocation {
    let node: unknown = this.doc.contents;
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

  private at(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }
}
