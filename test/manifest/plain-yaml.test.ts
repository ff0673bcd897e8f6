import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Document, LineCounter, Parser, isCollection, visit } from 'yaml';
import { composedFile, lineCounterOf, parseManifestFile, type ParsedFile } from '../../src/manifest/parse.js';
import { lineDocuments } from '../../src/manifest/line-yaml.js';
import { NOT_PLAIN, plainDocument } from '../../src/manifest/plain-yaml.js';
import { seededRandom } from '../helpers/seeded.js';

/** Every path into a value (map keys and list indexes), the value's own path first. */
function pathsOf(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

/**
 * What a caller can observe of a parsed file: problems, and each document's index, value, start and the
 * place of every value and key in it (as a late problem asks for them: from a tree composed again).
 */
function observed(parsed: ParsedFile) {
  return {
    problems: parsed.problems,
    documents: parsed.documents.map((d) => ({
      index: d.index,
      value: d.value,
      start: d.positions.start(),
      places: pathsOf(d.value).map((p) => [d.positions.locate(p), d.positions.locate(p, { key: true })]),
    })),
  };
}

/** How many of a text's documents plainDocument reads itself (the rest go to yaml's Composer). */
function plainCount(text: string): { plain: number; documents: number } {
  let plain = 0;
  let documents = 0;
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    documents++;
    if (plainDocument(token, text) !== NOT_PLAIN) plain++;
  }
  return { plain, documents };
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const SCALARS = [
  'plain text',
  'true',
  'False',
  'NULL',
  '~',
  '',
  '0',
  '-12',
  '0o17',
  '0x1F',
  '1e3',
  '.inf',
  '-.Inf',
  '.nan',
  '3.10',
  '01:07',
  '2026-12-01',
  'a: b',
  '# not a comment',
  'x #y',
  "it's",
  'say "hi"',
  '\\n',
  'line one\nline two',
  ' lead',
  'trail ',
  '- dash',
  '*star',
  '&amp',
  '!bang',
  '%pct',
  '@at',
  '`tick',
  '[x]',
  '{y}',
  'a,b',
  '?q',
  '|pipe',
  '>gt',
  '${NAME} failed at ${DATE}',
  'ünïcode ✓',
  'tab\there',
  '\u0085',
  'yes',
  'on',
  '<<',
];
const KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'spec',
  'on',
  'at',
  'true',
  '1',
  'null',
  '<<',
  'a b',
  'x-y',
  'toString',
  '__proto__',
  'k.v',
];

/** The scalars in printable ASCII: what the line reader may take (lineDocuments). */
const ASCII_SCALARS = [
  ...SCALARS.filter((s) => /^[\x20-\x7e]*$/.test(s)),
  // Lines: yaml writes these as literal blocks (|, |-, |+) when blockQuote is literal.
  'line one\nline two',
  'first\n\n  indented\n# not a comment\n',
  'kept\n\n\n',
  '\nleading blank',
  '${NAME} failed\nat ${DATE}\n',
];

/** The keys the line reader may take: one plain word that is a string. */
const WORD_KEYS = KEYS.filter((k) => /^[A-Za-z][\w./-]*$/.test(k) && !['true', 'null'].includes(k));

function randomValue(
  next: () => number,
  depth: number,
  scalars: readonly string[],
  keys: readonly string[],
): unknown {
  const r = next();
  if (depth > 3 || r < 0.45) return scalars[Math.floor(next() * scalars.length)];
  if (r < 0.55) return Math.floor(next() * 2000) - 1000;
  if (r < 0.6) return next() < 0.5 ? null : next() < 0.5;
  if (r < 0.8) {
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 4); i >= 0; i--)
      out[keys[Math.floor(next() * keys.length)]!] = randomValue(next, depth + 1, scalars, keys);
    return out;
  }
  return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1, scalars, keys));
}

/** yaml's own writer in several styles, then edits of single characters that YAML gives meaning to. */
function fuzzedTexts(
  seed: number,
  count: number,
  scalars: readonly string[] = SCALARS,
  keys: readonly string[] = KEYS,
): string[] {
  const next = seededRandom(seed);
  const texts: string[] = [];
  const edits = [
    ' ',
    '  ',
    '\t',
    '#',
    ' # c',
    ':',
    ': ',
    '-',
    '- ',
    '"',
    "'",
    '\n',
    '\n\n',
    '&a ',
    '*a',
    '!t ',
    '[',
    '{',
    '|',
    '>',
    '%',
    '?',
    ',',
    '---\n',
    '...\n',
    '\r\n',
    '\\',
  ];
  for (let i = 0; i < count; i++) {
    const docs = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
      const value = {
        apiVersion: 'taskops/v1',
        kind: 'Schedule',
        metadata: { name: `s-${i}` },
        spec: randomValue(next, 0, scalars, keys),
      };
      const style = next();
      // Some collections in flow style ([a, b], {k: v}), inside block ones or as the whole document.
      const doc = new Document(value);
      visit(doc, (_key, node) => {
        if (isCollection(node) && next() < 0.25) node.flow = true;
      });
      return doc.toString({
        defaultStringType: style < 0.3 ? 'QUOTE_DOUBLE' : style < 0.4 ? 'QUOTE_SINGLE' : 'PLAIN',
        indent: style < 0.7 ? 2 : 4,
        indentSeq: next() < 0.5,
        blockQuote: next() < 0.5 ? 'literal' : true,
        lineWidth: next() < 0.3 ? 20 : 80,
      });
    });
    const text = (next() < 0.3 ? '# header\n\n' : '') + docs.join(next() < 0.5 ? '---\n' : '--- # next\n');
    texts.push(text);
    for (let m = 0; m < 3; m++) {
      const at = Math.floor(next() * (text.length + 1));
      const edit = edits[Math.floor(next() * edits.length)]!;
      const cut = next() < 0.3 ? 1 : 0;
      texts.push(text.slice(0, at) + edit + text.slice(at + cut));
    }
  }
  return texts;
}

describe('plain documents read from yaml CST', () => {
  it('gives every example and fixture exactly what the Composer gives: problems, values, indexes, places', () => {
    const files = [...yamlFilesUnder('examples'), ...yamlFilesUnder('test/fixtures')];
    expect(files.length).toBeGreaterThan(20);
    let plain = 0;
    let documents = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(observed(parseManifestFile(file, text)), file).toStrictEqual(observed(composedFile(file, text)));
      const counts = plainCount(text);
      plain += counts.plain;
      documents += counts.documents;
    }
    // Most of the examples are read without the Composer: the comparison above is of the fast path.
    expect(plain).toBeGreaterThan(documents / 2);
  });

  it('gives the same as the Composer on 8,000 generated and edited files, and refuses what it cannot read', () => {
    const texts = fuzzedTexts(20261202, 2_000);
    let plain = 0;
    let refused = 0;
    for (const [i, text] of texts.entries()) {
      const file = `case-${i}.yaml`;
      expect(observed(parseManifestFile(file, text)), JSON.stringify(text)).toStrictEqual(
        observed(composedFile(file, text)),
      );
      const counts = plainCount(text);
      plain += counts.plain;
      refused += counts.documents - counts.plain;
      // The loader places a plain file's documents by these line starts when no parse kept its own.
      if (counts.documents > 0 && counts.plain === counts.documents) {
        const parsed = new LineCounter();
        for (const _ of new Parser(parsed.addNewLine).parse(text));
        expect(lineCounterOf(text).lineStarts, JSON.stringify(text)).toEqual(parsed.lineStarts);
      }
    }
    // Both paths are exercised: the comparison covers documents read from the CST and documents refused.
    expect(plain).toBeGreaterThan(2_000);
    expect(refused).toBeGreaterThan(500);
  });

  it('agrees with the Composer on keys near 1,024 characters after an empty value, a collection or indentation', () => {
    const b = (n: number) => 'b'.repeat(n);
    const texts = [
      `a:\n${b(1024)}: 1\n`,
      `a:\r\n${b(1023)}: 1\r\n`,
      `x:\n  a:\n  ${b(1022)}: 1\n`,
      `- a:\n  ${b(1022)}: 1\n`,
      `x:\n- 1\n-\n${b(1024)}: 1\n`,
      `x:\n${' '.repeat(1023)}a:\n${' '.repeat(1023)}b: 1\n`,
      `a: 1\n${b(1024)}: 1\n`,
      `a: 1\n${b(1025)}: 1\n`,
      `a: ${b(2000)}\nc: 1\n`,
      `a:\n  y:\n    z:\n${b(1020)}: 1\n`,
    ];
    for (const [i, text] of texts.entries()) {
      expect(observed(parseManifestFile(`k${i}.yaml`, text)), `case ${i}`).toStrictEqual(
        observed(composedFile(`k${i}.yaml`, text)),
      );
    }
    // The exact cases are still read from the CST: a scalar before, and a key just within the limit.
    expect(plainCount(texts[6]!).plain).toBe(1);
    expect(plainCount(texts[8]!).plain).toBe(1);
  });

  it('refuses what only the Composer may judge: flow collections over lines, anchors, tags, tabs, duplicate and quoted keys, depth', () => {
    const refusedTexts = [
      'a: [1,\n  2]\n',
      'a: [1, 2,]\n',
      'a: [b: 1]\n',
      'a: {b: 1, b: 2}\n',
      'a: {b: }\n',
      'a: {b: 1}x\n',
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a:\n\tb: 1\n',
      'a: 1\na: 2\n',
      '"a": 1\n',
      '? a\n: 1\n',
      '--- a: 1\n',
      'a: b: c\n',
      'a: "x"#c\n',
      '__proto__: 1\n',
      `${'a:\n'.repeat(1).replace('a:\n', '')}${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n')} 1\n`,
    ];
    for (const text of refusedTexts) {
      const [doc] = [...new Parser().parse(text)].filter((t) => t.type === 'document');
      expect(doc && plainDocument(doc as never, text), text).toBe(NOT_PLAIN);
    }
  });
});

describe('manifests read line by line (lineDocuments)', () => {
  const same = (text: string, file = 'line.yaml') =>
    expect(observed(parseManifestFile(file, text)), JSON.stringify(text)).toStrictEqual(
      observed(composedFile(file, text)),
    );

  it('gives the same as the Composer on 8,000 generated and edited ASCII files, and refuses what it cannot read', () => {
    let taken = 0;
    const texts = fuzzedTexts(20261203, 2_000, ASCII_SCALARS, WORD_KEYS);
    for (const [i, text] of texts.entries()) {
      if (lineDocuments(text)) taken++;
      same(text, `ascii-${i}.yaml`);
    }
    // Both the line reader and the readers it leaves files to are compared.
    expect(taken).toBeGreaterThan(600);
    expect(texts.length - taken).toBeGreaterThan(1_500);
  });

  it('reads every document of both bench corpora and most examples, placing each where the Parser does', () => {
    const texts = [
      'apiVersion: taskops/v1\nkind: Schedule\nmetadata:\n  name: s-1\nspec:\n  timezone: UTC\n  repeat:\n    unit: weeks\n    on:\n      - friday\n    at: "18:00"\n',
      "# header\n\n---\na: 1\n--- # next\n\n# lead\nb:\n- x\n- y: 1\n  z: [a, \"b c\", 'd''e']\nc: {k: v, n: 2}\n",
    ];
    for (const text of texts) {
      const docs = lineDocuments(text)!;
      expect(docs).not.toBeNull();
      const tokens = [...new Parser().parse(text)].filter((t) => t.type === 'document');
      expect(docs.map((d) => [d.offset, d.valueOffset])).toEqual(
        tokens.map((t) => [t.offset, (t as { value: { offset: number } }).value.offset]),
      );
      same(text);
    }
    let taken = 0;
    const files = yamlFilesUnder('examples');
    for (const file of files) if (lineDocuments(readFileSync(file, 'utf8'))) taken++;
    expect(taken).toBeGreaterThan(files.length / 2);
  });

  it('leaves to the other readers what only they may judge', () => {
    const refused = [
      'a: b\n  c\n', // a continuation line
      '- a\n  b\n',
      'a: "x"\n  y\n',
      'a: >\n  x\n',
      'a: |2\n  x\n',
      'a: |\n\n    \n  x\n',
      'a: |\n  x\n    \nb: 1\n',
      'a: |\n  x',
      'a: |\nb: 1\n',
      'a: |\n    x\n  y\n',
      'a: |x\n  y\n',
      'a: "x\\ny"\n',
      "a: 'x\n  y'\n",
      'a: [1,\n  2]\n',
      'a: [1, 2,]\n',
      'a: [1, , 2]\n',
      'a: [[1]\n',
      'a: [{b: 1}, ]\n',
      'a: {b: }\n',
      'a: {b: 1}x\n',
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a:\n\tb: 1\n',
      'a: 1\r\nb: 2\r\n',
      'a: caf\u00e9\n',
      '\ufeffa: 1\n',
      'a: 1\na: 2\n',
      '"a": 1\n',
      '? a\n: 1\n',
      '--- a: 1\n',
      'a: b: c\n',
      'a: b:\n',
      'a: "x"#c\n',
      '__proto__: 1\n',
      '1: a\n',
      'true: a\n',
      'a: 1\n---\n---\nb: 2\n',
      'a: 1\n---\n',
      'a: 1\n...\n',
      '%YAML 1.2\n---\na: 1\n',
      '  a: 1\n',
      '  # lead\na: 1\n',
      'a: 1\n- b\n',
      'a:\n  - b\n c: 1\n',
      'a: -\n',
      'a: - b\n',
      '# only a comment\n',
      '',
      `a:\n${'b'.repeat(1000)}: 1\n`,
      Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n') + ' 1\n',
    ];
    for (const text of refused) {
      expect(lineDocuments(text), JSON.stringify(text)).toBeNull();
      same(text);
    }
    const taken = [
      'a: b # c\n',
      'a: b#c\n',
      'a: http://x:8080/y\n',
      'a:\n- 1\n- -2\nb: ~\n',
      'a:\n    # deep comment\nb: 1\n',
      'a: x\n      # deep comment\nb: 1\n',
      "a: 'it''s'\nb: \"say 'hi'\"\n",
      'a: []\nb: {}\nc: [ 1 , two ]\n',
      'k.v/x-y_z: 0x1F\nn: .inf\nm: 1e3\no: 0o17\n',
      '-\n  a: 1\n- \n- b\n',
      '- - a\n  - - b\n    - c\n- d\n',
      "a: ?q\nb: :x\nc: [-1, ?y, it's]\n",
      'a: [[1, [2]], {b: {c: []}}, "x"]\n',
      'a:\nb:\n',
      'a:\n  # c\n  b: 1 # d\n# e\nc: 2   \n\n\n',
      '- # c\n  a: 1\n-   b: 2\n    c: 3\n',
      'a: # c\n  b: 1\n---   \n  # c\nd: "x"  # y\n',
      'a: |\n  x\n    more\n  # not a comment\n\n  y\nb: 1\n',
      'a: |-\n  x\n\n  y\n\nb: 1\n',
      'a: |+\n  x\n\n\nb: |  # c\n   z\n',
      '- |\n  x\n- y\n- a: |\n    z\n  b: 2\n',
      `a: 1\n${'b'.repeat(990)}: 1\n`,
    ];
    for (const text of taken) {
      expect(lineDocuments(text), JSON.stringify(text)).not.toBeNull();
      same(text);
    }
  });
});
