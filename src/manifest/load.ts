import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { checkFile, type CheckedFile, type CheckOptions } from './check-file.js';
import { CheckPool, poolSizeFor } from './check-pool.js';
import { formatProblem, type ManifestProblem } from './errors.js';
import { listManifestFiles } from './files.js';
import { LIMITS } from './limits.js';
import { Placements } from './placements.js';
import { checkReferences, type DriverCatalog, type ReferenceFinding } from './references.js';
import { checkSecretReferences } from './secret-references.js';
import { StringTable } from './string-table.js';
import { unpack } from './stored-form.js';
import type { SecretPolicy } from './secret-policy.js';
import type { DesiredState, LoadedManifest } from './types.js';
import { unusedObjects } from './warnings.js';

export interface LoadOptions {
  revision: string;
  /** Object types and actions the engine offers; without it only built-in types are checked. */
  driverCatalog?: DriverCatalog;
  /** Zone used to read local date-times of schedules without a timezone. */
  defaultZone?: string;
  /** The engine's secrets allowlist; without it secret references are noted as unchecked. */
  secretPolicy?: SecretPolicy;
  /** "In the past" for the warnings is measured against this; without it those warnings are skipped. */
  now?: Date;
  /** Called with each manifest file's text as it is validated: a cache keys on exactly what was validated. */
  onFileRead?: (file: string, text: string) => void;
  /** Worker threads to check files in (0: none); without it, chosen from the set's size (poolSizeFor). */
  checkThreads?: number;
  /**
   * Called once the check threads of a large set have all started (see CheckPool.open), and before each file
   * this thread checks while they start: a worker's start sets V8's flags back to the process's own.
   */
  onCheckThreadsStarted?: () => void;
}

export interface LoadResult {
  /** Null when there is any problem: an invalid set is never half-used. */
  state: DesiredState | null;
  problems: ManifestProblem[];
  /** Things that could not be checked here (object types and secret references without an engine config). */
  notes: ManifestProblem[];
  /** Valid but almost certainly not meant (a schedule that never fires, an unused object); only for a valid set. */
  warnings: ManifestProblem[];
  files: number;
  documents: number;
}

/** Files read ahead of the one being parsed: reading overlaps parsing without holding the whole repo in memory. */
const READ_AHEAD = 16;
const TOO_LARGE = Symbol('too large');

/** Reads files in order, up to READ_AHEAD ahead; a file over the size limit is never read. */
class ReadAhead {
  private readonly pending = new Map<number, Promise<string | typeof TOO_LARGE | Unreadable>>();
  private next = 0;

  constructor(private readonly files: readonly string[]) {}

  take(index: number): Promise<string | typeof TOO_LARGE | Unreadable> {
    while (this.next < this.files.length && this.next <= index + READ_AHEAD) {
      this.pending.set(this.next, read(this.files[this.next]!));
      this.next++;
    }
    const text = this.pending.get(index)!;
    this.pending.delete(index);
    return text;
  }
}

/** Never rejects: a read-ahead failure would otherwise surface as an unhandled rejection. */
async function read(file: string): Promise<string | typeof TOO_LARGE | Unreadable> {
  try {
    // Synchronous: a metadata call costs microseconds, an async one a thread-pool round trip per file.
    if (lstatSync(file).size > LIMITS.maxFileBytes) return TOO_LARGE;
    return await readFile(file, 'utf8');
  } catch (err) {
    return { unreadable: readError(err) };
  }
}

interface Unreadable {
  unreadable: string;
}

interface FileOutcome {
  file: string;
  read: string | typeof TOO_LARGE | Unreadable;
  /** Set when the file was read. */
  checked?: CheckedFile;
}

/**
 * Each file read and checked, in the files' order. With a pool (a large set, see poolSizeFor) the next files
 * are read and handed to its threads while this one waits for the first answer; a thread that fails costs
 * speed, never a result: its file is checked here instead.
 */
async function* checkedInOrder(files: string[], opts: LoadOptions): AsyncGenerator<FileOutcome> {
  const bytes = files.reduce((sum, file) => sum + sizeOf(file), 0);
  const size = poolSizeFor(bytes, files.length, opts.checkThreads);
  let threadsStarted = false;
  const pool =
    size > 0
      ? await CheckPool.open(size, () => {
          threadsStarted = true;
          opts.onCheckThreadsStarted?.();
        })
      : null;
  // While the threads start (a quarter of a second: each loads yaml and the schema checks), this thread checks
  // files itself instead of waiting; a share of them at most, so the threads always get most.
  let ownChecks = pool ? Math.floor(files.length / (2 * (size + 1))) : 0;
  const checkOpts: CheckOptions = { defaultZone: opts.defaultZone, now: opts.now?.getTime() };
  const check = (file: string, text: string): CheckedFile | Promise<CheckedFile> =>
    pool
      ? pool.check(file, text, checkOpts).catch(() => checkFile(file, text, checkOpts))
      : checkFile(file, text, checkOpts);
  // Two files per thread in flight: one being checked, the next one already sent.
  const window = pool ? 2 * size : 1;
  const texts = new ReadAhead(files);
  const started: Array<{
    file: string;
    read: FileOutcome['read'];
    checked?: Promise<CheckedFile> | CheckedFile;
  }> = [];
  let next = 0;
  /** Reads the next file and starts its check, in a thread or (`here`) on this one. */
  const startNext = async (here: boolean) => {
    const file = files[next]!;
    const read = await texts.take(next++);
    if (typeof read !== 'string') return started.push({ file, read });
    opts.onFileRead?.(file, read);
    started.push({ file, read, checked: here ? checkFile(file, read, checkOpts) : check(file, read) });
  };
  try {
    for (let i = 0; i < files.length; i++) {
      while (next < files.length && next - i < window) await startNext(false);
      while (ownChecks > 0 && next < files.length) {
        // A turn of the event loop first: the threads' first answers come in as events, and once every thread
        // has answered, the files are theirs (a check here meanwhile left them idle for want of work).
        await new Promise((resolve) => setImmediate(resolve));
        if (threadsStarted) break;
        ownChecks--;
        // A thread starting meanwhile may have set V8's flags back (see onCheckThreadsStarted).
        opts.onCheckThreadsStarted?.();
        await startNext(true);
      }
      const { file, read, checked } = started.shift()!;
      yield checked === undefined ? { file, read } : { file, read, checked: await checked };
    }
  } finally {
    await pool?.close();
  }
}

function sizeOf(file: string): number {
  try {
    return lstatSync(file).size;
  } catch {
    return 0;
  }
}

/** Files the engine reads as its own settings, never as manifests. */
const ENGINE_CONFIG_FILE = /^taskops\.config\.ya?ml$/;

/** The files the loader reads below `root`, in its order: manifest files, never the engine's own config. */
export async function manifestFilesOf(root: string): Promise<string[]> {
  const files = await listManifestFiles(root);
  return files.filter((f) => !ENGINE_CONFIG_FILE.test(f.split(/[\\/]/).pop() ?? ''));
}

/** Loads and validates every manifest below the roots: parse, schema, semantics, references — all errors at once. */
export async function loadManifests(roots: string[], opts: LoadOptions): Promise<LoadResult> {
  const problems: ManifestProblem[] = [];
  const manifests: LoadedManifest[] = [];
  const placements = new Placements();
  const strings = new StringTable();
  const invalidObjects = new Set<string>();
  const scheduleFindings: ReferenceFinding[] = [];
  let fileCount = 0;
  let documentCount = 0;
  for (const root of roots) {
    let manifestFiles: string[];
    try {
      manifestFiles = await manifestFilesOf(root);
    } catch (err) {
      problems.push({ layer: 'limit', location: { file: root, line: 1, col: 1 }, message: readError(err) });
      continue;
    }
    for await (const { file, read, checked } of checkedInOrder(manifestFiles, opts)) {
      fileCount++;
      if (read === TOO_LARGE) {
        problems.push({
          layer: 'limit',
          location: { file, line: 1, col: 1 },
          message: `file is ${lstatSync(file).size} bytes; manifests are limited to ${LIMITS.maxFileBytes} bytes per file (split it)`,
        });
        continue;
      }
      if (typeof read !== 'string') {
        problems.push({
          layer: 'limit',
          location: { file, line: 1, col: 1 },
          message: `cannot read the file: ${read.unreadable}`,
        });
        continue;
      }
      problems.push(...checked!.problems);
      documentCount += checked!.documents;
      for (const object of checked!.invalidObjects) invalidObjects.add(object);
      // Later problems (references, duplicates) are located by parsing the file (or the document) again, if ever.
      const source = placements.file(file, read);
      const packed = checked!.manifests;
      // One file name string per file, not one per object, whichever thread checked it.
      const loaded = unpack(packed, file);
      loaded.forEach((manifest, i) => {
        // Labels and descriptions; the spec stays text (see PackedManifests).
        strings.share(manifest.metadata);
        const offset = packed.offsets[i]!;
        placements.add(manifest, source, packed.indexes[i]!, offset < 0 ? undefined : offset);
        manifests.push(manifest);
      });
      for (const w of checked!.warnings)
        scheduleFindings.push({ manifest: loaded[w.manifest]!, path: w.path, message: w.message });
    }
  }
  const unique = dropDuplicates(manifests, placements, problems);
  const refs = checkReferences(unique, opts.driverCatalog, invalidObjects);
  const secrets = checkSecretReferences(unique, opts.secretPolicy);
  const locate = (layer: ManifestProblem['layer']) => (f: ReferenceFinding) => ({
    layer,
    location: placements.of(f.manifest).locate(f.path),
    object: label(f.manifest),
    message: f.message,
  });
  problems.push(...refs.errors.map(locate('reference')), ...secrets.errors.map(locate('security')));
  const notes = [...refs.unchecked.map(locate('reference')), ...secrets.unchecked.map(locate('security'))];
  // Warnings about a set that has errors would only bury them: they come once the set is valid.
  const warnings =
    problems.length > 0
      ? []
      : [...scheduleFindings, ...unusedObjects(unique)].map((f) =>
          locate(f.path[0] === 'metadata' ? 'reference' : 'semantic')(f),
        );
  notes.sort(compareProblems);
  warnings.sort(compareProblems);
  problems.sort(compareProblems);
  return {
    state:
      problems.length === 0
        ? { revision: opts.revision, manifests: unique, warnings: warnings.map(formatProblem) }
        : null,
    problems,
    notes,
    warnings,
    files: fileCount,
    documents: documentCount,
  };
}

const label = (m: LoadedManifest) => `${m.kind}/${m.metadata.name}`;

function dropDuplicates(
  manifests: LoadedManifest[],
  placements: Placements,
  problems: ManifestProblem[],
): LoadedManifest[] {
  const first = new Map<string, LoadedManifest>();
  const unique: LoadedManifest[] = [];
  for (const m of manifests) {
    const key = label(m);
    const earlier = first.get(key);
    if (earlier) {
      const at = earlier.source;
      problems.push({
        layer: 'reference',
        location: placements.of(m).locate(['metadata', 'name']),
        object: key,
        message: `duplicate: ${key} is also defined at ${at.file}:${at.line}:${at.col}; names are unique per kind`,
      });
    } else {
      first.set(key, m);
      unique.push(m);
    }
  }
  return unique;
}

function compareProblems(a: ManifestProblem, b: ManifestProblem): number {
  const fa = a.location.file;
  const fb = b.location.file;
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.location.line - b.location.line || a.location.col - b.location.col;
}

function readError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message ?? String(err);
}

/** The desired state below one root, as the reconciler and engine consume it. */
export function loadDesiredState(root: string, opts: LoadOptions): Promise<LoadResult> {
  return loadManifests([root], opts);
}
