import { validateDocument } from './document.js';
import type { ManifestProblem } from './errors.js';
import { parseManifestFile } from './parse.js';
import type { Path } from './schema-errors.js';
import { semanticFindings } from './semantic.js';
import { noManifests, pack, type PackedManifests } from './stored-form.js';
import type { ScheduleSpec } from './types.js';
import { scheduleWarnings } from './warnings.js';

/** What a file's check depends on besides its text; plain data, so it can be posted to a check thread. */
export interface CheckOptions {
  /** Zone used to read local date-times of schedules without a timezone. */
  defaultZone: string | undefined;
  /** Epoch ms "in the past" is measured against for the schedules' warnings; without it those are skipped. */
  now?: number | undefined;
}

/**
 * What one file says on its own: everything the loader checks before it looks across files. Plain data, so a
 * worker thread can hand it back by structured clone; the syntax trees stay behind.
 */
export interface CheckedFile {
  /** In the loader's order: the file's YAML problems, then each document's schema and semantic ones. */
  problems: ManifestProblem[];
  /** Documents read (the empty ones and those with YAML errors not counted). */
  documents: number;
  /** The valid manifests in their stored form, with their content hashes and places (see PackedManifests). */
  manifests: PackedManifests;
  /** "Kind/name" of documents that were invalid, so references to them are not reported as missing too. */
  invalidObjects: string[];
  /**
   * The valid schedules' own warnings (one that can never fire), by the schedule's place in `manifests`:
   * the loader keeps them only if the whole set turns out valid.
   */
  warnings: Array<{ manifest: number; path: Path; message: string }>;
}

/** Each distinct cron text's "never fires", across the files this thread checks. */
const neverFires = new Map<string, boolean>();

/** Parse, schema, security and semantic checks of one file's text. */
export function checkFile(file: string, text: string, opts: CheckOptions): CheckedFile {
  const parsed = parseManifestFile(file, text);
  const checked: CheckedFile = {
    problems: parsed.problems,
    documents: parsed.documents.length,
    manifests: noManifests(),
    invalidObjects: [],
    warnings: [],
  };
  const warningOpts = {
    ...(opts.now === undefined ? {} : { now: new Date(opts.now) }),
    ...(opts.defaultZone === undefined ? {} : { defaultZone: opts.defaultZone }),
  };
  for (const doc of parsed.documents) {
    const result = validateDocument(doc);
    checked.problems.push(...result.problems);
    if (!result.manifest) {
      if (result.object) checked.invalidObjects.push(result.object);
      continue;
    }
    for (const f of semanticFindings(result.manifest, opts.defaultZone)) {
      checked.problems.push({
        layer: 'semantic',
        location: doc.positions.locate(f.path, { key: f.atKey, textOffset: f.textOffset }),
        object: result.object,
        message: f.message,
      });
    }
    // Holding every document's syntax tree until the reference check is what made loading GC-bound.
    doc.positions.release();
    const manifest = result.manifest;
    if (manifest.kind === 'Schedule') {
      const at = checked.manifests.kinds.length;
      for (const w of scheduleWarnings(manifest.spec as ScheduleSpec, warningOpts, neverFires))
        checked.warnings.push({ manifest: at, ...w });
    }
    pack(checked.manifests, manifest, doc.index, doc.ownOffset);
  }
  return checked;
}
