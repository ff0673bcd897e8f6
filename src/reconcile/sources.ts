import { join, relative } from 'node:path';
import type { Kind, SourceLocation } from '../manifest/types.js';

/** A desired object with its place: a loaded manifest or an entry of the validated revision cache's index. */
export interface Placed {
  kind: Kind;
  metadata: { name: string };
  source: SourceLocation;
}

/**
 * Where each declared object is defined, files named under the display root (never a temp checkout). Serve
 * keeps one for every object of the live revision (100,000s): each place is three numbers in typed arrays
 * behind its name, not a `Kind/name` string and a `{file, line, col}` object per object (15 MB at 100,000).
 */
export class ObjectSources {
  private readonly rows = new Map<Kind, Map<string, number>>();
  private readonly files: string[] = [];
  private readonly fileOf: Int32Array;
  private readonly lines: Int32Array;
  private readonly cols: Int32Array;

  /** `root` is the folder the manifests were read from, shown as `display`. */
  constructor(placed: readonly Placed[], root: string, display: string) {
    this.fileOf = new Int32Array(placed.length);
    this.lines = new Int32Array(placed.length);
    this.cols = new Int32Array(placed.length);
    const fileIndex = new Map<string, number>();
    placed.forEach((m, row) => {
      let file = fileIndex.get(m.source.file);
      if (file === undefined) {
        fileIndex.set(m.source.file, (file = this.files.length));
        this.files.push(join(display, relative(root, m.source.file)));
      }
      this.fileOf[row] = file;
      this.lines[row] = m.source.line;
      this.cols[row] = m.source.col;
      let names = this.rows.get(m.kind);
      if (!names) this.rows.set(m.kind, (names = new Map()));
      names.set(m.metadata.name, row);
    });
  }

  static readonly none = new ObjectSources([], '', '');

  get(kind: Kind, name: string): SourceLocation | undefined {
    const row = this.rows.get(kind)?.get(name);
    return row === undefined ? undefined : this.at(row);
  }

  /** Every place, in the order the objects were given. */
  *values(): IterableIterator<SourceLocation> {
    for (let row = 0; row < this.fileOf.length; row++) yield this.at(row);
  }

  private at(row: number): SourceLocation {
    return { file: this.files[this.fileOf[row]!]!, line: this.lines[row]!, col: this.cols[row]! };
  }
}
