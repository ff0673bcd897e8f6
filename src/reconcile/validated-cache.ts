import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { manifestFilesOf } from '../manifest/index.js';
import { specTextOf } from '../manifest/stored-form.js';
import { isValidTimeZone, parseScheduleDateTime } from '../manifest/time.js';
import {
  API_VERSION,
  KINDS,
  objectKey,
  type DesiredState,
  type Kind,
  type LoadedManifest,
  type ScheduleSpec,
  type SourceLocation,
} from '../manifest/types.js';
import { canonicalJson } from '../store/hash.js';
import { manifestHash, rememberHash } from './hashes.js';
import { HeaderFile } from './header-file.js';

/** Manifests turned into JSON per step of a write: ≈ 5 ms each, so a background write never holds the loop long. */
const WRITE_SLICE = 2_000;

/** Bumped whenever the file's layout or the meaning of its key changes: an older file is then a miss. */
const FORMAT = 3;
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
const SCHEMAS_DIR = new URL('../../schemas/', import.meta.url);

/** What the cache reports, so serve can log it: a hit, a miss and why, or a file it could not use. */
export type ValidatedCacheEvent =
  | { result: 'hit'; manifests: number }
  | { result: 'miss'; reason: string }
  | { result: 'ignored'; reason: string; file: string }
  | { result: 'not-written'; reason: string };

export interface ValidatedCacheOptions {
  /** The cache is `<dataDir>/cache/validated-revision.json`. */
  dataDir: string;
  /**
   * Everything else validation depends on: the engine config's settings (after environment overrides: they
   * decide drivers, the secrets allowlist, the default zone) and its file, whose bytes are part of the key too.
   */
  config: { settings: unknown; file: string | null };
  onEvent?: (event: ValidatedCacheEvent) => void;
  /**
   * Write after `write()` returns, a slice at a time between other work, the file itself on libuv's threads;
   * `flush()` waits for it. Serve's first sync then applies and serves without waiting for ≈ 50 MB of JSON
   * at 100,000 schedules, which only the next restart reads.
   */
  background?: boolean;
}

/** The validation inputs that come with each load besides the files (LoadDesiredOptions minus revision). */
export interface ValidationInputs {
  driverCatalog?: unknown;
  secretPolicy?: unknown;
  defaultZone?: string;
  now?: Date;
}

/** A manifest file as the loader validated it: its path and the sha256 of its text. */
export interface FileDigest {
  file: string;
  sha256: string;
}

interface Header {
  format: number;
  taskops: string;
  key: string;
  /** Epoch ms of the earliest schedule `once`/`endsAt` still ahead at validation: its warning appears then. */
  expiresAt: number | null;
  /** sha256 of the body (the rest of the file after the header line). */
  body: string;
}

interface Body {
  manifests: LoadedManifest[];
  warnings: string[];
  /** Each manifest's content hash, in the same order: what the diff compares with the live objects. */
  hashes: string[];
}

/** One object of the index: kind (its place in KINDS), name, content hash, file (its place in `files`), line, col. */
type IndexEntry = [kind: number, name: string, hash: string, file: number, line: number, col: number];

interface IndexBody {
  files: string[];
  entries: IndexEntry[];
  warnings: string[];
}

/** A desired object without its content, as the index keeps it: enough to diff it when it did not change. */
export interface IndexedManifest {
  kind: (typeof KINDS)[number];
  metadata: { name: string };
  hash: string;
  source: SourceLocation;
}

/**
 * A desired state from the index: every object's identity, hash and place, and the warnings; no content.
 * Kept as the index's own entries, handed out one at a time: at 100,000 objects, an object (and its
 * metadata and place) made for each was 14 MB of a restart's peak for a structure read once.
 */
export class DesiredIndex {
  constructor(
    readonly revision: string,
    private readonly files: readonly string[],
    private readonly entries: readonly IndexEntry[],
    readonly warnings: string[],
  ) {}

  /** How many objects the index holds. */
  get size(): number {
    return this.entries.length;
  }

  /** Each object in the loader's order: its kind, name, content hash and place (a fresh one per call). */
  forEach(visit: (kind: Kind, name: string, hash: string, source: SourceLocation) => void): void {
    for (const [kind, name, hash, file, line, col] of this.entries)
      visit(KINDS[kind]!, name, hash, { file: this.files[file]!, line, col });
  }
}

/** The index gathered entry by entry, as the state's manifests are written. */
class IndexBuilder {
  private readonly files = new Map<string, number>();
  private readonly entries: IndexEntry[] = [];

  add(m: LoadedManifest, hash: string): void {
    let file = this.files.get(m.source.file);
    if (file === undefined) this.files.set(m.source.file, (file = this.files.size));
    this.entries.push([KINDS.indexOf(m.kind), m.metadata.name, hash, file, m.source.line, m.source.col]);
  }

  body(warnings: string[]): IndexBody {
    return { files: [...this.files.keys()], entries: this.entries, warnings };
  }
}

export const textDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The last valid desired state, kept by the content hash of every input of validation, so a restart on an
 * unchanged revision does not validate 100,000 documents again. Only a valid set is kept, under the digest of
 * exactly the texts that were validated. A file that does not parse, is of another version or format, has
 * another key, does not match its own digest or does not have the shape of a desired state is a miss: the
 * caller validates normally and the file is replaced.
 */
export class ValidatedRevisionCache {
  readonly file: string;
  private schemasDigest: string | undefined;

  readonly indexFile: string;

  constructor(private readonly opts: ValidatedCacheOptions) {
    this.file = join(opts.dataDir, 'cache', 'validated-revision.json');
    this.indexFile = `${this.file}.index`;
  }

  /**
   * Whether a lookup of the state (or of its index) can hit at all; when its file is absent (a first start)
   * the miss is reported here, and the files need not be digested for a key nothing can match.
   */
  canHit(which: 'state' | 'index'): boolean {
    if (existsSync(which === 'state' ? this.file : this.indexFile)) return true;
    this.miss('no cache file yet');
    return false;
  }

  /** The files below `root` as the loader would read them, digested. */
  async digestFiles(root: string): Promise<FileDigest[]> {
    const files = await manifestFilesOf(root);
    const out: FileDigest[] = [];
    for (const file of files) out.push({ file, sha256: textDigest(await readFile(file, 'utf8')) });
    return out;
  }

  /** The key over every input of validation: files (paths and contents), options, config, version, schemas. */
  key(root: string, files: readonly FileDigest[], inputs: ValidationInputs): string {
    const hash = createHash('sha256');
    const part = (s: string) => hash.update(s).update('\0');
    part(`taskops-validated/${FORMAT}`);
    part(VERSION);
    part(this.schemas());
    part(canonicalJson(this.opts.config.settings ?? null));
    part(this.opts.config.file ? textDigest(readFileSync(this.opts.config.file, 'utf8')) : 'no config file');
    // The secret policy is code built from the config settings above; whether one was given changes the result.
    part(canonicalJson({ catalog: inputs.driverCatalog ?? null, policy: inputs.secretPolicy !== undefined }));
    part(inputs.defaultZone ?? '');
    part(root);
    part(String(files.length));
    for (const f of files) part(relative(root, f.file).split(sep).join('/')).update(f.sha256).update('\0');
    return hash.digest('hex');
  }

  /** The cached state for `key` at `revision`, or null (a miss, reported through onEvent). */
  read(key: string, root: string, revision: string, now: Date): DesiredState | null {
    const body = this.readChecked<Body>(this.file, key, now, (b) => checkShape(b, root));
    if (!body) return null;
    body.manifests.forEach((m, i) => rememberHash(m, body.hashes[i]!));
    this.opts.onEvent?.({ result: 'hit', manifests: body.manifests.length });
    return { revision, manifests: body.manifests, warnings: body.warnings };
  }

  /**
   * The cached state for `key` without its content: each object's kind, name, content hash and place, and
   * the warnings (from `<file>.index`, written beside). Enough for serve to find that nothing changed
   * without reading 100,000s of specs back; anything that changes needs `read`.
   */
  readIndex(key: string, root: string, revision: string, now: Date): DesiredIndex | null {
    const index = this.readChecked<IndexBody>(this.indexFile, key, now, (b) => checkIndexShape(b, root));
    if (!index) return null;
    this.opts.onEvent?.({ result: 'hit', manifests: index.entries.length });
    return new DesiredIndex(revision, index.files, index.entries, index.warnings);
  }

  /** A cache file's body under `key`, checked by its digest and `check`; null after a miss or an ignored file. */
  private readChecked<T>(file: string, key: string, now: Date, check: (body: T) => void): T | null {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return this.miss('no cache file yet');
    }
    const newline = text.indexOf('\n');
    let header: Header;
    let body: T;
    try {
      header = JSON.parse(text.slice(0, newline)) as Header;
      if (header.format !== FORMAT || header.taskops !== VERSION)
        return this.miss(`the cache was written by another version (${String(header.taskops)})`);
      if (header.key !== key) return this.miss('the manifests or the engine config changed');
      if (header.expiresAt !== null && now.getTime() >= header.expiresAt)
        return this.miss('a schedule once/endsAt has passed since validation (its warning is due)');
      const rest = text.slice(newline + 1);
      if (textDigest(rest) !== header.body) throw new Error('its content does not match its digest');
      body = JSON.parse(rest) as T;
      check(body);
    } catch (err) {
      this.opts.onEvent?.({
        result: 'ignored',
        reason: `${(err as Error).message}; validating in full and replacing it`,
        file,
      });
      return null;
    }
    return body;
  }

  /**
   * Keeps a valid state under `key`, unless a JSON copy could differ from it or its warnings depend on now.
   * With `background`, after this returns (in the order written); see flush().
   */
  write(key: string, state: DesiredState, inputs: ValidationInputs): void {
    const now = inputs.now;
    if (!now) return this.notWritten('no validation time given');
    const expiresAt = earliestDeadline(state.manifests, inputs.defaultZone ?? 'UTC', now.getTime());
    if (expiresAt === 'passed')
      return this.notWritten('a schedule once/endsAt is in the past: its warning names the time');
    // The job holds its own list, whose entries it lets go once written: after a background write's sync
    // nothing else holds the manifests, so they are freed as it goes instead of all at its end.
    const manifests = state.manifests.slice();
    const warnings = state.warnings ?? [];
    if (!this.opts.background) {
      const job = this.writeJob(key, manifests, warnings, expiresAt);
      let step = job.next();
      while (!step.done) step = job.next();
      return;
    }
    this.pending = this.pending.then(async () => {
      const job = this.writeJob(key, manifests, warnings, expiresAt);
      let step = job.next();
      while (!step.done) {
        // Other work (requests, firings) runs between the slices.
        await new Promise((resolve) => setImmediate(resolve));
        try {
          await step.value;
        } catch (err) {
          // Into the job, whose own catch reports it as the synchronous write would.
          step = job.throw(err);
          continue;
        }
        step = job.next();
      }
    });
  }

  /** Resolves once every background write has finished (serve waits for it before it stops). */
  flush(): Promise<void> {
    return this.pending;
  }

  private pending: Promise<void> = Promise.resolve();

  /**
   * The write in steps: each `yield` is a pause point, yielding a write to wait for (background) or nothing.
   * The body is JSON.stringify's text of {manifests, warnings, hashes}, made a slice of manifests at a time,
   * hashed and written as it is made.
   */
  private *writeJob(
    key: string,
    manifests: Array<LoadedManifest | undefined>,
    warningList: string[],
    expiresAt: number | null,
  ): Generator<Promise<void> | undefined, void, undefined> {
    const hashes = manifests.map((m) => manifestHash(m!));
    const warnings = jsonExactly(warningList);
    if (warnings === null) return this.notWritten('the warnings hold a value JSON would change');
    const index = new IndexBuilder();
    let out: HeaderFile | undefined;
    try {
      mkdirSync(join(this.opts.dataDir, 'cache'), { recursive: true });
      this.removeStaleCopies();
      out = new HeaderFile(this.file, this.opts.background === true);
      const digest = createHash('sha256');
      const append = (text: string) => {
        digest.update(text);
        return out!.append(text);
      };
      yield append('{"manifests":[');
      for (let i = 0; i < manifests.length; i += WRITE_SLICE) {
        const end = Math.min(i + WRITE_SLICE, manifests.length);
        const slice: string[] = [];
        for (let j = i; j < end; j++) {
          const json = manifestJson(manifests[j]!);
          if (json === null) {
            yield out.abandon();
            return this.notWritten('the manifests hold a value JSON would change');
          }
          slice.push(json);
          index.add(manifests[j]!, hashes[j]!);
        }
        manifests.fill(undefined, i, end);
        yield append(`${i === 0 ? '' : ','}${slice.join(',')}`);
      }
      yield append(`],"warnings":${warnings},"hashes":${JSON.stringify(hashes)}}`);
      yield out.finish(this.header(key, expiresAt, digest.digest('hex')));
      // After the state: each file stands on its own key, so a stop between the two leaves a miss, not a mix.
      const indexJson = JSON.stringify(index.body(warningList));
      out = new HeaderFile(this.indexFile, this.opts.background === true);
      yield out.append(indexJson);
      yield out.finish(this.header(key, expiresAt, textDigest(indexJson)));
    } catch (err) {
      yield out?.abandon();
      this.notWritten(`cannot write ${this.file}: ${(err as Error).message}`);
    }
  }

  /**
   * Temporary copies another process left when it was stopped mid-write (50 MB at 100,000 schedules): one
   * serve holds the data dir, so any copy not this process's is abandoned.
   */
  private removeStaleCopies(): void {
    const dir = join(this.opts.dataDir, 'cache');
    const own = `.${process.pid}.tmp`;
    for (const name of readdirSync(dir)) {
      if (/^validated-revision\.json(?:\.index)?\.\d+\.tmp$/.test(name) && !name.endsWith(own))
        rmSync(join(dir, name), { force: true });
    }
  }

  private header(key: string, expiresAt: number | null, body: string): string {
    return JSON.stringify({ format: FORMAT, taskops: VERSION, key, expiresAt, body } satisfies Header);
  }

  private schemas(): string {
    if (this.schemasDigest === undefined) {
      const hash = createHash('sha256');
      for (const name of readdirSync(SCHEMAS_DIR).sort())
        hash
          .update(name)
          .update('\0')
          .update(readFileSync(new URL(name, SCHEMAS_DIR)))
          .update('\0');
      this.schemasDigest = hash.digest('hex');
    }
    return this.schemasDigest;
  }

  private miss(reason: string): null {
    this.opts.onEvent?.({ result: 'miss', reason });
    return null;
  }

  private notWritten(reason: string): void {
    this.opts.onEvent?.({ result: 'not-written', reason });
  }
}

/**
 * The earliest `once`/`endsAt` after `now` (when its "in the past" warning will appear), null when none, or
 * `passed` when one already has: that warning's text holds the validation time, so the state is not kept.
 */
function earliestDeadline(
  manifests: readonly LoadedManifest[],
  defaultZone: string,
  now: number,
): number | null | 'passed' {
  let earliest: number | null = null;
  for (const m of manifests) {
    if (m.kind !== 'Schedule') continue;
    // Keys are quoted in JSON: a spec text with neither key has neither field, and is left unread.
    const text = specTextOf(m);
    if (text !== undefined && !text.includes('"once"') && !text.includes('"endsAt"')) continue;
    const spec = m.spec as ScheduleSpec;
    const zone = spec.timezone !== undefined && isValidTimeZone(spec.timezone) ? spec.timezone : defaultZone;
    for (const text of [spec.once, spec.endsAt]) {
      if (text === undefined) continue;
      const parsed = parseScheduleDateTime(text, zone);
      if (!parsed.ok) continue;
      const t = parsed.instant.getTime();
      if (t <= now) return 'passed';
      earliest = earliest === null ? t : Math.min(earliest, t);
    }
  }
  return earliest;
}

/**
 * A manifest's JSON as JSON.stringify writes it, or null when it would not read back exactly. The spec of one
 * the loader read from its text (specTextOf) is that text, used as it is: it was made by JSON, and read from it.
 */
function manifestJson(m: LoadedManifest): string | null {
  const spec = specTextOf(m);
  if (spec === undefined) return jsonExactly(m);
  const metadata = jsonExactly(m.metadata);
  const source = jsonExactly(m.source);
  if (metadata === null || source === null) return null;
  const head = `{"apiVersion":${JSON.stringify(m.apiVersion)},"kind":${JSON.stringify(m.kind)}`;
  return `${head},"metadata":${metadata},"spec":${spec},"source":${source}}`;
}

/**
 * JSON of plain data that reads back exactly, else null: a value JSON would change (.inf, -0, undefined, a
 * Date or other class instance) means the set is not kept. Checked while writing, without a second copy.
 */
function jsonExactly(value: unknown): string | null {
  let exact = true;
  let json: string;
  try {
    json = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const original = this[key];
      if (typeof original === 'number') {
        if (!Number.isFinite(original) || Object.is(original, -0)) exact = false;
      } else if (original === undefined || typeof original === 'function' || typeof original === 'bigint') {
        exact = false;
      } else if (typeof original === 'object' && original !== null) {
        const proto = Object.getPrototypeOf(original) as unknown;
        if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) exact = false;
      }
      return v;
    });
  } catch {
    // A cycle or a BigInt: not JSON at all.
    return null;
  }
  return exact ? json : null;
}

/** The index's shape: known kinds, unique names, 64-hex hashes, files below the root, numeric places. */
function checkIndexShape(index: IndexBody, root: string): void {
  if (!isObject(index) || !Array.isArray(index.files) || !Array.isArray(index.entries))
    throw new Error('it is not an index of a desired state');
  if (!Array.isArray(index.warnings) || !index.warnings.every((w) => typeof w === 'string'))
    throw new Error('its warnings are not text');
  for (const file of index.files as unknown[]) {
    if (typeof file !== 'string' || relative(root, file).startsWith('..'))
      throw new Error(`it names a file outside the manifest root (${String(file)})`);
  }
  const seen = new Set<string>();
  for (const e of index.entries as unknown[]) {
    if (!Array.isArray(e) || e.length !== 6) throw new Error('it holds something that is not an object');
    const [kind, name, hash, file, line, col] = e as unknown[];
    if (typeof kind !== 'number' || KINDS[kind] === undefined || typeof name !== 'string')
      throw new Error('it holds an object of no known kind or without a name');
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
      throw new Error('its content hashes do not match its manifests');
    if (typeof file !== 'number' || index.files[file] === undefined)
      throw new Error('it holds an object without a file');
    if (typeof line !== 'number' || typeof col !== 'number')
      throw new Error('it holds an object without a file:line:col');
    const key = objectKey(KINDS[kind], name);
    if (seen.has(key)) throw new Error(`it holds ${key} twice`);
    seen.add(key);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What can be re-checked cheaply: the shape of a desired state, unique names, every file below the root. */
function checkShape(body: Body, root: string): void {
  if (!isObject(body) || !Array.isArray(body.manifests) || !Array.isArray(body.warnings))
    throw new Error('it is not a desired state');
  if (!body.warnings.every((w) => typeof w === 'string')) throw new Error('its warnings are not text');
  if (
    !Array.isArray(body.hashes) ||
    body.hashes.length !== body.manifests.length ||
    !body.hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
  )
    throw new Error('its content hashes do not match its manifests');
  const seen = new Set<string>();
  // JSON.parse makes a string per manifest; the loader shares one per file, and so do these from here on.
  const files = new Map<string, string>();
  for (const m of body.manifests as unknown[]) {
    if (!isObject(m) || m.apiVersion !== API_VERSION || !KINDS.includes(m.kind as never))
      throw new Error('it holds something that is not a manifest');
    const { metadata, spec, source } = m;
    if (!isObject(metadata) || typeof metadata.name !== 'string' || !isObject(spec) || !isObject(source))
      throw new Error('it holds a manifest without metadata, spec or source');
    if (typeof source.file !== 'string' || typeof source.line !== 'number' || typeof source.col !== 'number')
      throw new Error('it holds a manifest without a file:line:col');
    const file = files.get(source.file);
    if (file !== undefined) source.file = file;
    else if (relative(root, source.file).startsWith('..'))
      throw new Error(`it names a file outside the manifest root (${source.file})`);
    else files.set(source.file, source.file);
    const key = objectKey(m.kind as (typeof KINDS)[number], metadata.name);
    if (seen.has(key)) throw new Error(`it holds ${key} twice`);
    seen.add(key);
  }
}
