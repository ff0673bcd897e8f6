import { Composer, LineCounter, Parser, isAlias, isCollection, type Document, type Node } from 'yaml';
import type { ManifestProblem } from './errors.js';
import type { SourceLocation } from './types.js';
import { LIMITS } from './limits.js';
import { lineDocuments } from './line-yaml.js';
import { NOT_PLAIN, plainDocument } from './plain-yaml.js';
import { DocumentPositions, type DocumentTree } from './positions.js';

/** One YAML document of a file, as plain data plus the means to locate its nodes. */
export interface ParsedDocument {
  index: number;
  value: unknown;
  positions: DocumentPositions;
  /** Where the document starts when it can be composed from there on its own (see documentRebuilder). */
  ownOffset?: number;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  problems: ManifestProblem[];
}

/**
 * Parses every document of one file; syntax errors, nesting and alias abuse become problems, never throws.
 * Documents are composed one at a time and each syntax tree is released once its value is read, so a file of
 * 1,000 documents never holds 1,000 trees: they die young instead of filling the old generation (at 100,000
 * documents, that was most of the garbage collector's time and of serve's peak memory). A problem found later
 * rebuilds the file's trees once (DocumentPositions).
 */
export function parseManifestFile(file: string, text: string): ParsedFile {
  return lineFile(file, text) ?? plainFile(file, text) ?? composedFile(file, text);
}

/**
 * A file whose every document is in lineDocuments' subset, read line by line without yaml's tokens; null for
 * any other file. Each document starts a line, so a late problem composes that document alone.
 */
function lineFile(file: string, text: string): ParsedFile | null {
  const docs = lineDocuments(text);
  if (!docs) return null;
  const lineCounter = lineCounterOf(text);
  const counter = () => lineCounter;
  const documents = docs.map(({ value, offset, valueOffset }, index): ParsedDocument => ({
    index,
    value,
    positions: new DocumentPositions(file, undefined, documentRebuilder(text, offset, counter), {
      offset: valueOffset,
      lineCounter,
    }),
    ownOffset: offset,
  }));
  return { documents, problems: [] };
}

/**
 * A file whose every document is in plainDocument's subset, read from yaml's CST without composing node
 * trees; null for any other file, which composedFile then reads whole, so its problems are exactly the
 * Composer's.
 */
function plainFile(file: string, text: string): ParsedFile | null {
  const lineCounter = new LineCounter();
  const rebuild = rebuilder(text);
  const documents: ParsedDocument[] = [];
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
    // Top-level space and comments are only the next document's prelude to the Composer.
    if (token.type === 'space' || token.type === 'comment' || token.type === 'newline') continue;
    if (token.type !== 'document' || documents.length === LIMITS.maxDocumentsPerFile) return null;
    const value = plainDocument(token, text);
    if (value === NOT_PLAIN) return null;
    const index = documents.length;
    const startAt = { offset: token.value!.offset, lineCounter };
    // A document that starts a line reads the same from there on its own: a late problem or note then
    // composes that document, not the whole file.
    const own = token.offset === 0 || text[token.offset - 1] === '\n';
    const tree = own ? documentRebuilder(text, token.offset, () => lineCounter) : rebuild(index);
    const positions = new DocumentPositions(file, undefined, tree, startAt);
    documents.push(own ? { index, value, positions, ownOffset: token.offset } : { index, value, positions });
  }
  return documents.length > 0 ? { documents, problems: [] } : null;
}

/** Every document composed by yaml's Composer: any file plainFile does not take. */
export function composedFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const problems: ManifestProblem[] = [];
  const documents: ParsedDocument[] = [];
  const rebuild = rebuilder(text);
  let count = 0;
  for (const doc of composeDocuments(text, lineCounter)) {
    const index = count++;
    // Over the limit, the rest is only counted, for the message; nothing of the file is read.
    if (count > LIMITS.maxDocumentsPerFile) continue;
    const positions = new DocumentPositions(file, { doc, lineCounter }, rebuild(index));
    if (doc.errors.length > 0) {
      const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAB_AS_INDENT')];
      for (const err of syntax) {
        const [start] = err.pos;
        const { line, col } = lineCounter.linePos(start);
        problems.push({ layer: 'yaml', location: { file, line, col }, message: yamlMessage(err.message) });
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document (comments only, or a trailing ---) declares nothing
    const shape = checkDepthAndAliases(doc, positions);
    if (shape.problem) {
      problems.push(shape.problem);
      continue;
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
    positions.release();
  }
  if (count > LIMITS.maxDocumentsPerFile) {
    return {
      documents: [],
      problems: [
        limitProblem(file, `file has ${count} documents; at most ${LIMITS.maxDocumentsPerFile} are read`),
      ],
    };
  }
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
  const aliases: AliasCount = { count: 0, first: null };
  const found = firstExcess(doc.contents, 0, aliases);
  if (found === 'aliases') {
    return {
      problem: {
        layer: 'limit',
        location: positions.start(),
        message: `document uses more than ${LIMITS.maxAliasCount} YAML aliases: refused as a resource-exhaustion risk`,
      },
    };
  }
  if (found) {
    return {
      problem: {
        layer: 'limit',
        location: positions.nodeLocation(found),
        message: `nesting deeper than ${LIMITS.maxDepth} levels: refused`,
      },
    };
  }
  return { firstAlias: aliases.first ? positions.nodeLocation(aliases.first) : null };
}

interface AliasCount {
  count: number;
  first: Node | null;
}

/**
 * The first collection nested too deep, 'aliases' once there are too many, else null. Recursion is bounded by
 * LIMITS.maxDepth and allocates nothing per node. Children are visited last first, a pair's value before its
 * key: the order of the explicit stack this replaced, so the same node is reported.
 */
function firstExcess(node: unknown, depth: number, aliases: AliasCount): Node | 'aliases' | null {
  if (isAlias(node)) {
    aliases.count++;
    aliases.first ??= node;
    return aliases.count > LIMITS.maxAliasCount ? 'aliases' : null;
  }
  if (!isCollection(node)) return null;
  if (depth >= LIMITS.maxDepth) return node;
  const items: unknown[] = node.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    const found =
      item && typeof item === 'object' && 'value' in item && 'key' in item
        ? (firstExcess(item.value, depth + 1, aliases) ?? firstExcess(item.key, depth + 1, aliases))
        : firstExcess(item, depth + 1, aliases);
    if (found) return found;
  }
  return null;
}

/**
 * Trees released by the loader are rebuilt from the text, once per file, only when a late problem needs one.
 * A function of its own so the closures capture the text and nothing else of the parse.
 */
export function rebuilder(text: string): (index: number) => () => DocumentTree {
  let rebuilt: { docs: Document[]; lineCounter: LineCounter } | undefined;
  return (index) => () => {
    if (!rebuilt) {
      const lineCounter = new LineCounter();
      rebuilt = { docs: [...composeDocuments(text, lineCounter)], lineCounter };
    }
    return { doc: rebuilt.docs[index]!, lineCounter: rebuilt.lineCounter };
  };
}

/**
 * The tree of the document at `offset` of `text`, composed from there (the parse stops after the next
 * document begins), placed in the file by the file's own line counter.
 */
export function documentRebuilder(
  text: string,
  offset: number,
  lineCounter: () => LineCounter,
): () => DocumentTree {
  return () => {
    const composer = new Composer(COMPOSE_OPTIONS);
    for (const token of new Parser().parse(text.slice(offset))) {
      // Composed alone: the next document's tokens are never read.
      if (token.type !== 'document') continue;
      const [doc] = [...composer.next(token), ...composer.end()] as Document[];
      return { doc: doc!, lineCounter: lineCounter(), shift: offset };
    }
    throw new Error(`no YAML document at offset ${offset} any more`);
  };
}

/** The line starts yaml's Parser records for `text` (0, then the offset after each line break), without a parse. */
export function lineCounterOf(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) counter.addNewLine(at + 1);
  return counter;
}

const COMPOSE_OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

/** The documents of a text as parseAllDocuments makes them, one at a time. */
function* composeDocuments(text: string, lineCounter: LineCounter): Generator<Document> {
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer(COMPOSE_OPTIONS);
  yield* composer.compose(parser.parse(text)) as Generator<Document>;
}

function limitProblem(file: string, message: string): ManifestProblem {
  return { layer: 'limit', location: { file, line: 1, col: 1 }, message };
}

/** yaml's messages end with a code frame and position we already print in file:line:col. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return `invalid YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}
