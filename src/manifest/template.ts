import { DateTime } from 'luxon';
import { zoneAbbreviation } from '../text/zone-abbreviation.js';
import { jsonDepthExcess, valueDepthExceeds } from './depth.js';
import { compileJsonText, type JsonTextPart } from './json-template.js';
import { LIMITS } from './limits.js';

/** Variables every template may use; `FIELD_<key>` (an event field) comes on top. */
export const KNOWN_VARIABLES = [
  'DATE',
  'TIMESTAMP',
  'RANDOM',
  'NAME',
  'TASK',
  'EVENT_TYPE',
  'EVENT',
  'RUN_ID',
] as const;
export type KnownVariable = (typeof KNOWN_VARIABLES)[number];

export const FIELD_PREFIX = 'FIELD_';

/** What a template is expanded with. A value that does not apply (no event, no object) expands to "". */
export interface TemplateVars {
  now: Date;
  /** IANA zone for ${DATE}; an unknown zone falls back to UTC. */
  zone: string;
  /** [0, 1), like Math.random; passed in so tests are deterministic. */
  random(): number;
  name: string | null;
  task: string;
  runId: string;
  event?: { type: string; name: string; fields: Record<string, string | number | boolean> };
}

export interface TemplateProblem {
  /** Index into the text of the `$` that starts the problem. */
  offset: number;
  message: string;
}

const KNOWN_LIST = [...KNOWN_VARIABLES, `${FIELD_PREFIX}<key>`].join(', ');
const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_VARIABLES);
const NAME_CHARS = /[A-Za-z0-9_]*/y;
const FIELD_KEY = /^[A-Za-z0-9_]+$/;

export function isKnownVariable(name: string): boolean {
  if (KNOWN_SET.has(name)) return true;
  return name.startsWith(FIELD_PREFIX) && FIELD_KEY.test(name.slice(FIELD_PREFIX.length));
}

/** A template split once into literal text and variable references. */
export type TemplatePiece = string | { variable: string };

interface Scan {
  pieces: TemplatePiece[];
  problems: TemplateProblem[];
}

function scan(text: string): Scan {
  const pieces: TemplatePiece[] = [];
  const problems: TemplateProblem[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      literal += '${';
      i = dollar + 3;
      continue;
    }
    if (text[dollar + 1] !== '{') {
      literal += '$';
      i = dollar + 1;
      continue;
    }
    NAME_CHARS.lastIndex = dollar + 2;
    const name = NAME_CHARS.exec(text)?.[0] ?? '';
    const close = dollar + 2 + name.length;
    if (text[close] !== '}') {
      problems.push({
        offset: dollar,
        message: 'unterminated ${: expected ${VARIABLE} (write $${ for a literal ${)',
      });
      literal += text.slice(dollar, close);
      i = close;
      continue;
    }
    if (isKnownVariable(name)) {
      if (literal) pieces.push(literal);
      literal = '';
      pieces.push({ variable: name });
    } else {
      problems.push({ offset: dollar, message: `unknown variable \${${name}}; known: ${KNOWN_LIST}` });
      // Left as written: validation refuses it, so this only matters for unvalidated input.
      literal += text.slice(dollar, close + 1);
    }
    i = close + 1;
  }
  if (literal) pieces.push(literal);
  return { pieces, problems };
}

/** Every unknown variable and unterminated `${` in the text, with its offset. */
export function findTemplateProblems(text: string): TemplateProblem[] {
  return scan(text).problems;
}

/** Splits a template once, for callers that expand it many times. */
export function compileTemplate(text: string): TemplatePiece[] {
  return text.includes('$') ? scan(text).pieces : [text];
}

let lastDate = { second: Number.NaN, zone: '', text: '' };

/**
 * `Thu, 16 Oct 2025 11:38:07 EDT`: RFC 2822 layout with the zone's abbreviation as `preview` shows it (CET, IST,
 * AEDT: en-US alone names only American zones), or GMT+5:45 where the zone has none.
 */
export function formatDate(now: Date, zone: string): string {
  const second = Math.floor(now.getTime() / 1000);
  // Busy deliveries format the same second over and over; luxon formatting is the costly part.
  if (lastDate.second === second && lastDate.zone === zone) return lastDate.text;
  let dt = DateTime.fromJSDate(now, { zone }).setLocale('en-US');
  if (!dt.isValid) dt = DateTime.fromJSDate(now, { zone: 'UTC' }).setLocale('en-US');
  const text = `${dt.toFormat('ccc, dd LLL yyyy HH:mm:ss')} ${zoneAbbreviation(now, dt.zoneName ?? 'UTC')}`;
  lastDate = { second, zone, text };
  return text;
}

function valueOf(variable: string, vars: TemplateVars): string {
  switch (variable) {
    case 'DATE':
      return formatDate(vars.now, vars.zone);
    case 'TIMESTAMP':
      return String(Math.floor(vars.now.getTime() / 1000));
    case 'RANDOM':
      // 0 to 2^31-1: wide enough to tell deliveries apart, safe as a JSON number anywhere.
      return String(Math.floor(vars.random() * 2 ** 31));
    case 'NAME':
      return vars.name ?? '';
    case 'TASK':
      return vars.task;
    case 'RUN_ID':
      return vars.runId;
    case 'EVENT_TYPE':
      return vars.event?.type ?? '';
    case 'EVENT':
      return vars.event?.name ?? '';
    default: {
      const fields = vars.event?.fields;
      const key = variable.slice(FIELD_PREFIX.length);
      // hasOwn: a field named "constructor" must not reach Object.prototype.
      return fields && Object.hasOwn(fields, key) ? String(fields[key]) : '';
    }
  }
}

export function expandPieces(pieces: readonly TemplatePiece[], vars: TemplateVars): string {
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : valueOf(piece.variable, vars);
  return out;
}

/** A piece after expansion: literal text the template wrote, or the value a variable was replaced by. */
export type ExpandedPiece = { literal: string } | { variable: string; value: string };

/**
 * Expands each piece once and keeps apart what the template wrote and what was substituted, for callers
 * that must treat substituted values as untrusted (command arguments).
 */
export function expandPiecesApart(pieces: readonly TemplatePiece[], vars: TemplateVars): ExpandedPiece[] {
  return pieces.map((piece) =>
    typeof piece === 'string'
      ? { literal: piece }
      : { variable: piece.variable, value: valueOf(piece.variable, vars) },
  );
}

/**
 * Substitutes the variables in a text. A variable without a value here (no event, no object) becomes "";
 * an unknown variable (which validation refuses) stays as written.
 */
export function expandTemplate(text: string, vars: TemplateVars): string {
  return text.includes('$') ? expandPieces(scan(text).pieces, vars) : text;
}

/** A webhook payload parsed and split once; expanded per delivery by expandPayload. */
export type PayloadTemplate =
  | { kind: 'json'; json: string }
  /** A JSON text payload: its own bytes, with only the string values that hold variables replaced. */
  | { kind: 'text'; parts: JsonTextPart[] }
  | { kind: 'string'; pieces: TemplatePiece[] }
  | { kind: 'array'; items: PayloadTemplate[] }
  /** Keys are literal JSON text, already quoted: only values take variables. */
  | { kind: 'object'; entries: Array<[string, PayloadTemplate]> };

export type PayloadParseResult =
  | { ok: true; template: PayloadTemplate }
  | {
      ok: false;
      message: string;
      /** Index into a JSON text payload, when the problem has one. */
      offset?: number;
      /** Where below the payload the problem is, for a mapping or list payload; `atKey` points at a key. */
      path?: Array<string | number>;
      atKey?: boolean;
    };

class PayloadShapeError extends Error {
  constructor(
    message: string,
    readonly path: Array<string | number>,
    readonly atKey = false,
  ) {
    super(message);
  }
}

const hasVariable = (pieces: TemplatePiece[]): boolean => pieces.some((p) => typeof p !== 'string');

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const display = (path: Array<string | number>): string =>
  path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : `${acc}.${seg}`),
    'payload',
  );

/** Depth is bounded before this runs (LIMITS.maxDepth), so the recursion is too. */
function compileValue(value: unknown, path: Array<string | number>): PayloadTemplate {
  if (value === null || typeof value === 'boolean') return { kind: 'json', json: JSON.stringify(value) };
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new PayloadShapeError(`${display(path)} is ${value}, which JSON cannot hold`, path);
    // YAML read the number into a double already: past 2^53 it is no longer the integer that was written.
    if (Number.isInteger(value) && !Number.isSafeInteger(value))
      throw new PayloadShapeError(
        `${display(path)} is an integer too large to be sent exactly from a YAML mapping (it would become ${value}); write the payload as JSON text (payload: |) to send it as written, or quote it as a string`,
        path,
      );
    return { kind: 'json', json: JSON.stringify(value) };
  }
  if (typeof value === 'string') {
    const pieces = compileTemplate(value);
    // Without variables the pieces are the literal text, with any $${ escape already undone.
    return hasVariable(pieces)
      ? { kind: 'string', pieces }
      : { kind: 'json', json: JSON.stringify(pieces.join('')) };
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileValue(item, [...path, i]));
    return items.every((t) => t.kind === 'json')
      ? { kind: 'json', json: `[${items.map((t) => (t as { json: string }).json).join(',')}]` }
      : { kind: 'array', items };
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const entries = Object.entries(value).map(([key, item]): [string, PayloadTemplate] => [
      JSON.stringify(literalKey(key, path)),
      compileValue(item, [...path, key]),
    ]);
    if (!entries.every(([, t]) => t.kind === 'json')) return { kind: 'object', entries };
    const members = entries.map(([key, t]) => `${key}:${(t as { json: string }).json}`);
    return { kind: 'json', json: `{${members.join(',')}}` };
  }
  const what = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  throw new PayloadShapeError(`${display(path)} is a ${what}; a payload holds only JSON values`, path);
}

/**
 * A key as the receiver gets it. Variables are refused in keys: a substituted key could repeat another
 * key of the same object, and receivers keep the last of two, so an event field could override a fixed value.
 */
function literalKey(key: string, path: Array<string | number>): string {
  const pieces = compileTemplate(key);
  if (hasVariable(pieces)) {
    throw new PayloadShapeError(
      `payload key ${JSON.stringify(key)} uses a variable; variables are allowed in JSON values only, not in keys (write $\${ for a literal \${)`,
      [...path, key],
      true,
    );
  }
  return pieces.join('');
}

const tooDeep = (): string =>
  `payload nests deeper than ${LIMITS.maxDepth} levels of lists and mappings; flatten it`;

/**
 * Parses a webhook payload once: a string must be JSON text; a mapping or list (from YAML) is taken as is.
 * Variables are found inside string values only, so expansion can never break the JSON or add a key.
 * Nesting is bounded first, without recursion, so a hostile payload is refused instead of overflowing the stack.
 */
export function parsePayloadTemplate(payload: string | object): PayloadParseResult {
  if (typeof payload === 'string') {
    const excess = jsonDepthExcess(payload);
    if (excess !== -1) return { ok: false, message: tooDeep(), offset: excess };
    // Token by token, never through JSON.parse: big integers, 1.10, key order and duplicate keys stay visible.
    const compiled = compileJsonText(payload);
    if (!compiled.ok)
      return {
        ok: false,
        message: compiled.message,
        offset: compiled.offset,
        ...(compiled.atKey ? { atKey: true } : {}),
      };
    return { ok: true, template: { kind: 'text', parts: compiled.parts } };
  }
  if (valueDepthExceeds(payload)) return { ok: false, message: tooDeep() };
  const value: unknown = payload;
  try {
    return { ok: true, template: compileValue(value, []) };
  } catch (err) {
    if (!(err instanceof PayloadShapeError)) throw err;
    return { ok: false, message: err.message, path: err.path, atKey: err.atKey };
  }
}

/** The delivered body: valid JSON whatever the variables hold (quotes, newlines, `</script>`, emoji). */
export function expandPayload(template: PayloadTemplate, vars: TemplateVars): string {
  switch (template.kind) {
    case 'json':
      return template.json;
    case 'text': {
      let out = '';
      for (const part of template.parts)
        out += typeof part === 'string' ? part : JSON.stringify(expandPieces(part.pieces, vars));
      return out;
    }
    case 'string':
      return JSON.stringify(expandPieces(template.pieces, vars));
    case 'array':
      return `[${template.items.map((item) => expandPayload(item, vars)).join(',')}]`;
    case 'object':
      return `{${template.entries.map(([key, item]) => `${key}:${expandPayload(item, vars)}`).join(',')}}`;
  }
}
