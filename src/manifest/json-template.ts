// template.ts imports this module too: only functions cross, called after both modules have loaded.
import { compileTemplate, type TemplatePiece } from './template.js';

/**
 * A JSON text payload as its own bytes: literal text kept exactly as written (numbers such as
 * 12345678901234567890 or 1.10, key order, spacing), and the string values that hold variables, to be
 * replaced by their expansion, escaped. Nothing goes through JavaScript values, so nothing is rewritten.
 */
export type JsonTextPart = string | { pieces: TemplatePiece[] };

export type JsonTextResult =
  { ok: true; parts: JsonTextPart[] } | { ok: false; message: string; offset: number; atKey?: boolean };

class JsonTextError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly atKey = false,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /true|false|null/y;
const hasVariable = (pieces: TemplatePiece[]): boolean => pieces.some((p) => typeof p !== 'string');

/** Splits JSON text into its literal bytes and its templated strings; nesting is bounded by the caller first. */
export function compileJsonText(text: string): JsonTextResult {
  const parts: JsonTextPart[] = [];
  let literalFrom = 0;
  let i = 0;

  const fail = (message: string, at = i): never => {
    throw new JsonTextError(`payload is not valid JSON: ${message}`, at);
  };
  const refuse = (message: string, at: number): never => {
    throw new JsonTextError(message, at, true);
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++;
  };
  /** Replaces the token [from, to) by `part` in the output, keeping everything before it as written. */
  const replace = (from: number, to: number, part: JsonTextPart) => {
    if (from > literalFrom) parts.push(text.slice(literalFrom, from));
    parts.push(part);
    literalFrom = to;
  };

  const string = (): { start: number; value: string } => {
    const start = i++;
    for (;;) {
      if (i >= text.length) fail('a string is not closed: a " is missing', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20)
        fail('a string holds a raw control character or line break; write it as \\n, \\t or \\u00XX');
      i += c === 0x5c ? 2 : 1;
    }
    i++;
    let value = '';
    try {
      value = JSON.parse(text.slice(start, i)) as string;
    } catch {
      fail(
        'a string holds an invalid escape; JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX',
        start,
      );
    }
    return { start, value };
  };

  /** A string value: kept as written unless it holds `$` (a variable, or a `$${` escape to undo). */
  const stringValue = () => {
    const { start, value } = string();
    if (!value.includes('$')) return;
    const pieces = compileTemplate(value);
    replace(start, i, hasVariable(pieces) ? { pieces } : JSON.stringify(pieces.join('')));
  };

  const key = (seen: Set<string>) => {
    if (text[i] !== '"') fail('expected a "quoted" key');
    const { start, value } = string();
    let name = value;
    if (value.includes('$')) {
      const pieces = compileTemplate(value);
      // A substituted key could repeat another key of the object, and an event field override a fixed value.
      if (hasVariable(pieces))
        refuse(
          `payload key ${JSON.stringify(value)} uses a variable; variables are allowed in JSON values only, not in keys (write $\${ for a literal \${)`,
          start,
        );
      name = pieces.join('');
      replace(start, i, JSON.stringify(name));
    }
    // Receivers keep one of two equal keys, each its own pick: refuse rather than let them disagree.
    if (seen.has(name))
      refuse(
        `payload has the key ${JSON.stringify(name)} twice in one object; receivers keep only one of them: remove one`,
        start,
      );
    seen.add(name);
  };

  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      const seen = new Set<string>();
      for (;;) {
        space();
        key(seen);
        space();
        if (text[i] !== ':') fail("expected ':' after a key");
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail("expected ',' or '}' in an object");
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail("expected ',' or ']' in a list");
      }
    }
    if (c === '"') return stringValue();
    for (const pattern of [NUMBER, WORD]) {
      pattern.lastIndex = i;
      const match = pattern.exec(text);
      if (match) {
        i += match[0].length;
        return;
      }
    }
    fail(i >= text.length ? 'the JSON text ends early' : `unexpected ${JSON.stringify(text[i])}`);
  };

  try {
    space();
    // Spacing around the value is not part of it (a YAML block scalar ends in a line break).
    literalFrom = i;
    value();
    const end = i;
    space();
    if (i < text.length) fail('unexpected text after the JSON value');
    if (literalFrom < end) parts.push(text.slice(literalFrom, end));
    literalFrom = text.length;
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    return { ok: false, message: err.message, offset: err.offset, ...(err.atKey ? { atKey: true } : {}) };
  }
  return { ok: true, parts };
}
