import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { validateDocument } from './document.js';
import { formatProblem, type ManifestProblem } from './errors.js';
import { listManifestFiles } from './files.js';
import { LIMITS } from './limits.js';
import { parseManifestFile } from './parse.js';
import type { DocumentPositions } from './positions.js';
import { checkReferences, type DriverCatalog, type ReferenceFinding } from './references.js';
import { checkSecretReferences } from './secret-references.js';
import type { SecretPolicy } from './secret-policy.js';
import { semanticFindings } from './semantic.js';
import type { DesiredState, LoadedManifest } from './types.js';
import { manifestWarnings } from './warnings.js';

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
  const positionsOf = new Map<LoadedManifest, DocumentPositions>();
  const invalidObjects = new Set<string>();
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
    const texts = new ReadAhead(manifestFiles);
    for (const [index, file] of manifestFiles.entries()) {
      fileCount++;
      const text = await texts.take(index);
      if (text === TOO_LARGE) {
        problems.push({
          layer: 'limit',
          location: { file, line: 1, col: 1 },
          message: `file is ${lstatSync(file).size} bytes; manifests are limited to ${LIMITS.maxFileBytes} bytes per file (split it)`,
        });
        continue;
      }
      if (typeof text !== 'string') {
        problems.push({
          layer: 'limit',
          location: { file, line: 1, col: 1 },
          message: `cannot read the file: ${text.unreadable}`,
        });
        continue;
      }
      opts.onFileRead?.(file, text);
      const parsed = parseManifestFile(file, text);
      problems.push(...parsed.problems);
      for (const doc of parsed.documents) {
        documentCount++;
        const result = validateDocument(doc);
        problems.push(...result.problems);
        if (!result.manifest) {
          if (result.object) invalidObjects.add(result.object);
          continue;
        }
        positionsOf.set(result.manifest, doc.positions);
        for (const f of semanticFindings(result.manifest, opts.defaultZone)) {
          problems.push({
            layer: 'semantic',
            location: doc.positions.locate(f.path, { key: f.atKey, textOffset: f.textOffset }),
            object: result.object,
            message: f.message,
          });
        }
        // Holding every document's syntax tree until the reference check is what made loading GC-bound.
        doc.positions.release();
        manifests.push(result.manifest);
      }
    }
  }
  const unique = dropDuplicates(manifests, positionsOf, problems);
  const refs = checkReferences(unique, opts.driverCatalog, invalidObjects);
  const secrets = checkSecretReferences(unique, opts.secretPolicy);
  const locate = (layer: ManifestProblem['layer']) => (f: ReferenceFinding) => ({
    layer,
    location: positionsOf.get(f.manifest)!.locate(f.path),
    object: label(f.manifest),
    message: f.message,
  });
  problems.push(...refs.errors.map(locate('reference')), ...secrets.errors.map(locate('security')));
  const notes = [...refs.unchecked.map(locate('reference')), ...secrets.unchecked.map(locate('security'))];
  // Warnings about a set that has errors would only bury them: they come once the set is valid.
  const warnings =
    problems.length > 0
      ? []
      : manifestWarnings(unique, {
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.defaultZone ? { defaultZone: opts.defaultZone } : {}),
        }).map((f) => locate(f.path[0] === 'metadata' ? 'reference' : 'semantic')(f));
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
  positionsOf: Map<LoadedManifest, DocumentPositions>,
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
        location: positionsOf.get(m)!.locate(['metadata', 'name']),
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
