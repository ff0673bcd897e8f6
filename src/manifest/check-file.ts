import { contentHash } from '../text/content-hash.js';
import { validateDocument } from './document.js';
import type { ManifestProblem } from './errors.js';
import { parseManifestFile } from './parse.js';
import { semanticFindings } from './semantic.js';
import type { LoadedManifest } from './types.js';

/**
 * What one file says on its own: everything the loader checks before it looks across files. Plain data, so a
 * worker thread can hand it back by structured clone; the syntax trees stay behind.
 */
export interface CheckedFile {
  /** In the loader's order: the file's YAML problems, then each document's schema and semantic ones. */
  problems: ManifestProblem[];
  /** Documents read (the empty ones and those with YAML errors not counted). */
  documents: number;
  /**
   * The valid manifests, each with its document's index in the file (to locate later problems) and, when the
   * document can be composed on its own, its offset (then only that document is parsed again to locate one);
   * and its content hash (contentHash), made where it was read, in a check thread when there is one.
   */
  manifests: Array<{ index: number; manifest: LoadedManifest; hash: string; offset?: number }>;
  /** "Kind/name" of documents that were invalid, so references to them are not reported as missing too. */
  invalidObjects: string[];
}

/** Parse, schema, security and semantic checks of one file's text. */
export function checkFile(file: string, text: string, defaultZone: string | undefined): CheckedFile {
  const parsed = parseManifestFile(file, text);
  const checked: CheckedFile = {
    problems: parsed.problems,
    documents: parsed.documents.length,
    manifests: [],
    invalidObjects: [],
  };
  for (const doc of parsed.documents) {
    const result = validateDocument(doc);
    checked.problems.push(...result.problems);
    if (!result.manifest) {
      if (result.object) checked.invalidObjects.push(result.object);
      continue;
    }
    for (const f of semanticFindings(result.manifest, defaultZone)) {
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
    const hash = contentHash(manifest.metadata, manifest.spec);
    checked.manifests.push(
      doc.ownOffset === undefined
        ? { index: doc.index, manifest, hash }
        : { index: doc.index, manifest, hash, offset: doc.ownOffset },
    );
  }
  return checked;
}
