import { join, relative } from 'node:path';
import type { Kind, SourceLocation } from '../manifest/types.js';
import { DesiredIndex } from './validated-cache.js';

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
  constructor(placed: readonly Placed[] | DesiredIndex, root: string, display: string) {
    const count = placed instanceof DesiredIndex ? placed.size : placed.length;
    this.fileOf = new Int32Array(count);
    this.lines = new Int32Array(count);
    this.cols = new Int32Array(count);
    const fileIndex = new Map<string, number>();
    let row = 0;
    const add = (kind: Kind, name: string, source: SourceLocation) => {
      let file = fileIndex.get(source.file);
      if (file === undefined) {
        fileIndex.set(source.file, (file = this.files.length));
        this.files.push(join(display, relative(root, source.file)));
      }
      this.fileOf[row] = file;
      this.lines[row] = source.line;
      this.cols[row] = source.col;
      let names = this.rows.get(kind);
      if (!names) this.rows.set(kind, (names = new Map()));
      names.set(name, row++);
    };
    if (placed instanceof DesiredIndex)
      placed.forEach((kind, name, _hash, source) => add(kind, name, source));
    else for (const m of placed) add(m.kind, m.metadata.name, m.source);
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
