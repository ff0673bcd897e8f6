import type { LineCounter } from 'yaml';
import type { LoadedManifest } from './types.js';
import { documentRebuilder, lineCounterOf, rebuilder } from './parse.js';
import { DocumentPositions, type DocumentTree } from './positions.js';

/** A manifest file as read, for locating problems found after its check: its trees are made only then. */
interface FileText {
  file: string;
  text: string;
  trees?: (index: number) => () => DocumentTree;
  lines?: LineCounter;
}

/** Where a manifest's document stands: its file, its index there, and its offset when it composes alone. */
interface Placement {
  source: FileText;
  index: number;
  offset: number | undefined;
}

/**
 * The place of every loaded manifest, kept as one small record each (not a DocumentPositions with its
 * closures per manifest: ≈ 100 bytes less each, 11 MB at 110,000), turned into positions when a cross-file
 * problem, note or warning asks for one.
 */
export class Placements {
  private readonly placed = new Map<LoadedManifest, Placement>();
  private readonly made = new Map<LoadedManifest, DocumentPositions>();

  /** The file whose manifests are added next. */
  file(file: string, text: string): FileText {
    return { file, text };
  }

  add(manifest: LoadedManifest, source: FileText, index: number, offset: number | undefined): void {
    this.placed.set(manifest, { source, index, offset });
  }

  of(manifest: LoadedManifest): DocumentPositions {
    let positions = this.made.get(manifest);
    if (positions) return positions;
    const { source, index, offset } = this.placed.get(manifest)!;
    const tree =
      offset === undefined
        ? (source.trees ??= rebuilder(source.text))(index)
        : documentRebuilder(source.text, offset, () => (source.lines ??= lineCounterOf(source.text)));
    positions = new DocumentPositions(source.file, undefined, tree);
    this.made.set(manifest, positions);
    return positions;
  }
}
