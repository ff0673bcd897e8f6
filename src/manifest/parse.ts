import { LineCounter, parseAllDocuments, isAlias, isCollection, type Document, type Node } from 'yaml';
import type { ManifestProblem } from './errors.js';
import type { SourceLocation } from './types.js';
import { LIMITS } from './limits.js';
import { DocumentPositions } from './positions.js';

/** One YAML document of a file, as plain data plus the means to locate its nodes. */
export interface ParsedDocument {
  index: number;
  value: unknown;
  positions: DocumentPositions;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  problems: ManifestProblem[];
}

/** Parses every document of one file; syntax errors, nesting and alias abuse become problems, never throws. */
export function parseManifestFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const problems: ManifestProblem[] = [];
  const documents: ParsedDocument[] = [];
  const list = parseDocuments(text, lineCounter);
  const reparse = reparser(text);
  if (list.length > LIMITS.maxDocumentsPerFile) {
    return {
      documents,
      problems: [
        limitProblem(
          file,
          `file has ${list.length} documents; at most ${LIMITS.maxDocumentsPerFile} are read`,
        ),
      ],
    };
  }
  list.forEach((doc, index) => {
    const positions = new DocumentPositions(file, doc, lineCounter, reparse(index));
    if (doc.errors.length > 0) {
      const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAB_AS_INDENT')];
      for (const err of syntax) {
        const [start] = err.pos;
        const { line, col } = lineCounter.linePos(start);
        problems.push({ layer: 'yaml', location: { file, line, col }, message: yamlMessage(err.message) });
      }
      return;
    }
    if (doc.contents === null) return; // an empty document (comments only, or a trailing ---) declares nothing
    const shape = checkDepthAndAliases(doc, positions);
    if (shape.problem) {
      problems.push(shape.problem);
      return;
    }
    try {
      documents.push({ index, value: doc.toJS({ maxAliasCount: LIMITS.maxAliasCount }), positions });
    } catch {
      problems.push({
        layer: 'limit',
        location: shape.firstAlias ?? positions.start(),
        message: `YAML aliases expand too much (more than ${LIMITS.maxAliasCount} expansions): refused as a resource-exhaustion risk`,
      });
    }
  });
  if (documents.length === 0 && problems.length === 0) {
    problems.push({
      layer: 'yaml',
      location: { file, line: 1, col: 1 },
      message: 'no manifests in this file (it is empty or only comments); delete it or add a document',
    });
  }
  return { documents, problems };
}

/** Walks the syntax tree without expanding aliases, so nothing large is built for a hostile document. */
function checkDepthAndAliases(
  doc: Document,
  positions: DocumentPositions,
): { problem?: ManifestProblem; firstAlias?: SourceLocation | null } {
  // Two parallel stacks rather than one of {node, depth} objects: this walk sees every node of every document.
  const nodes: unknown[] = [doc.contents];
  const depths: number[] = [0];
  let aliases = 0;
  let firstAlias: Node | null = null;
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (isAlias(node)) {
      aliases++;
      firstAlias ??= node;
      if (aliases > LIMITS.maxAliasCount) {
        return {
          problem: {
            layer: 'limit',
            location: positions.start(),
            message: `document uses more than ${LIMITS.maxAliasCount} YAML aliases: refused as a resource-exhaustion risk`,
          },
        };
      }
      continue;
    }
    if (!isCollection(node)) continue;
    if (depth >= LIMITS.maxDepth) {
      return {
        problem: {
          layer: 'limit',
          location: positions.nodeLocation(node as Node),
          message: `nesting deeper than ${LIMITS.maxDepth} levels: refused`,
        },
      };
    }
    for (const item of node.items) {
      if (item && typeof item === 'object' && 'value' in item && 'key' in item) {
        nodes.push(item.key, item.value);
        depths.push(depth + 1, depth + 1);
      } else {
        nodes.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return { firstAlias: firstAlias ? positions.nodeLocation(firstAlias) : null };
}

/**
 * Trees released by the loader are rebuilt from the text, once per file, only when a late problem needs one.
 * A function of its own so the closures capture the text and nothing else of the parse.
 */
function reparser(text: string): (index: number) => () => Document {
  let rebuilt: Document[] | undefined;
  return (index) => () => (rebuilt ??= parseDocuments(text, new LineCounter()))[index]!;
}

function parseDocuments(text: string, lineCounter: LineCounter): Document[] {
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return Array.isArray(docs) ? docs : [];
}

function limitProblem(file: string, message: string): ManifestProblem {
  return { layer: 'limit', location: { file, line: 1, col: 1 }, message };
}

/** yaml's messages end with a code frame and position we already print in file:line:col. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return `invalid YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}
