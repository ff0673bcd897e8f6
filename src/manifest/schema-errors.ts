import type { ErrorObject } from 'ajv';
import { HEADER_NAME_HINT, HEADER_VALUE_HINT } from './headers.js';
import { schemaAt } from './schemas.js';
import { closest } from './suggest.js';

export type Path = Array<string | number>;

/** A schema violation in operator's words, with the path of the node to point at. */
export interface SchemaMessage {
  path: Path;
  /** Point at the key rather than the value (unknown fields). */
  atKey?: boolean;
  message: string;
}

/** Messages for pattern failures, by the last path segment: what would be right, not the regex. */
const PATTERN_HINTS: Record<string, string> = {
  name: 'must be 1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit',
  at: 'must be a 24-hour time HH:MM, like 18:00',
  once: 'must be an ISO 8601 date-time like 2026-12-24T17:00:00 (local) or 2026-12-24T17:00:00-05:00',
  startsAt: 'must be an ISO 8601 date-time like 2026-12-24T17:00:00 (local) or 2026-12-24T17:00:00Z',
  endsAt: 'must be an ISO 8601 date-time like 2026-12-24T17:00:00 (local) or 2026-12-24T17:00:00Z',
  url: 'must be an http:// or https:// URL',
  env: 'must be an environment variable name like SLACK_TOKEN',
  header: 'must be an HTTP header name like X-API-Key',
};
const LOWERCASE_ID = 'must be lowercase letters, digits and -, starting with a letter (like power-off)';
const MEMBER_NAME =
  'must not begin with - or contain control characters (it reaches command arguments as ${NAME}, where a leading - reads as an option)';

export function pathFromPointer(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function displayPath(path: Path): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg),
    '',
  );
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: Path): unknown {
  let node = data;
  for (const seg of path)
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
  return node;
}

const ONE_OF_KEYS: Record<string, string[]> = {
  Schedule: ['cron', 'repeat', 'once'],
  Webhook: ['url', 'urlFrom'],
};

/**
 * Turns ajv's errors for one document (or spec) into a few clear messages.
 * `prefix` is prepended to paths (["spec"] for spec validation); `schema` is the root schema validated against.
 */
export function translateSchemaErrors(
  errors: ErrorObject[],
  data: unknown,
  schema: Record<string, unknown>,
  prefix: Path,
  kind?: string,
): SchemaMessage[] {
  const out: SchemaMessage[] = [];
  // Branch errors under oneOf/anyOf/not are noise once the combinator itself is explained.
  const explained = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .map((e) => e.schemaPath + '/');
  for (const e of errors) {
    if (explained.some((p) => e.schemaPath.startsWith(p))) continue;
    if (e.keyword === 'if') continue;
    // A key's own pattern failure is explained once, by its propertyNames error.
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const localPath = pathFromPointer(e.instancePath);
    const path = [...prefix, ...localPath];
    const where = displayPath(path);
    const value = valueAt(data, localPath);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required': {
        const missing = String(params.missingProperty);
        const condition = thenCondition(schema, e.schemaPath, localPath);
        out.push({ path, message: `${displayPath([...path, missing])} is required${condition}` });
        break;
      }
      case 'additionalProperties': {
        const field = String(params.additionalProperty);
        const allowed = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
        const hint = closest(field, allowed);
        out.push({
          path: [...path, field],
          atKey: true,
          message:
            `unknown field ${displayPath([...path, field])}` +
            (hint ? ` (did you mean ${hint}?)` : allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''),
        });
        break;
      }
      case 'type':
        out.push({
          path,
          message: `${where} must be ${article(String(params.type).replace(',', ' or '))} (got ${describeValue(value)})`,
        });
        break;
      case 'minimum':
        out.push({ path, message: `${where} must be at least ${params.limit} (got ${String(value)})` });
        break;
      case 'maximum':
        out.push({ path, message: `${where} must be at most ${params.limit} (got ${String(value)})` });
        break;
      case 'enum':
        out.push({
          path,
          message: `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${describeValue(value)})`,
        });
        break;
      case 'const':
        out.push({
          path,
          message: `${where} must be ${String(params.allowedValue)} (got ${describeValue(value)})`,
        });
        break;
      case 'propertyNames': {
        const key = String(params.propertyName);
        const isHeader = localPath.at(-1) === 'headers';
        out.push({
          path: [...path, key],
          atKey: true,
          message: isHeader
            ? `header name ${JSON.stringify(key)} ${HEADER_NAME_HINT}`
            : `${where}: key ${JSON.stringify(key)} is not allowed`,
        });
        break;
      }
      case 'pattern': {
        const last = localPath[localPath.length - 1];
        const parent = localPath[localPath.length - 2];
        if (parent === 'headers') {
          out.push({ path, message: `${where} ${HEADER_VALUE_HINT} (got ${describeValue(value)})` });
          break;
        }
        const lowercase =
          ['category', 'objectType', 'action', 'type'].includes(String(last)) ||
          (parent === 'event' && last === 'name');
        const member = parent === 'members' || (parent === 'target' && last === 'name');
        const hint = lowercase
          ? LOWERCASE_ID
          : member
            ? MEMBER_NAME
            : (PATTERN_HINTS[String(last)] ?? `must match ${String(params.pattern)}`);
        const shownPath = typeof last === 'number' ? displayPath(path) : where;
        out.push({
          path,
          message: `${shownPath} ${isSchedulesItem(localPath) ? PATTERN_HINTS.name : hint} (got ${describeValue(value)})`,
        });
        break;
      }
      case 'minLength':
        out.push({ path, message: `${where} must not be empty` });
        break;
      case 'maxLength':
        out.push({ path, message: `${where} is longer than ${params.limit} characters` });
        break;
      case 'minItems':
        out.push({
          path,
          message: `${where} must list at least ${params.limit} item${params.limit === 1 ? '' : 's'}`,
        });
        break;
      case 'uniqueItems':
        out.push({
          path,
          message: `${where} lists ${describeValue((value as unknown[])[Number(params.i)])} twice`,
        });
        break;
      case 'minProperties':
      case 'maxProperties':
        out.push({ path, message: propertiesCountMessage(where, localPath) });
        break;
      case 'not':
        out.push({
          path,
          message: `${where}: object and tag cannot both be set; match one object or the members of one tag`,
        });
        break;
      case 'oneOf':
      case 'anyOf':
        out.push({ path, message: oneOfMessage(where, localPath, value, kind) });
        break;
      default:
        out.push({ path, message: `${where} ${e.message ?? 'is invalid'}` });
    }
  }
  return dedupe(out);
}

function isSchedulesItem(path: Path): boolean {
  return path.length === 2 && (path[0] === 'schedules' || path[0] === 'tasks') && typeof path[1] === 'number';
}

function propertiesCountMessage(where: string, localPath: Path): string {
  const last = localPath[localPath.length - 1];
  if (last === 'target') return `${where} must have exactly one of name or tag`;
  return `${where} must be exactly one of {env: NAME} or {file: PATH}`;
}

function oneOfMessage(where: string, localPath: Path, value: unknown, kind?: string): string {
  if (localPath.length === 0 && kind && ONE_OF_KEYS[kind]) {
    const keys = ONE_OF_KEYS[kind]!;
    const present = keys.filter((k) => value && typeof value === 'object' && k in value);
    const list =
      keys.length === 2 ? `${keys[0]} or ${keys[1]}` : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`;
    if (present.length === 0) return `${where} needs exactly one of ${list}`;
    return `${where} has ${present.join(' and ')}; exactly one of ${list} is allowed`;
  }
  if (localPath.includes('on')) {
    return `${where} must be a weekday (monday ... sunday), a day of the month 1-31, or last (got ${describeValue(value)})`;
  }
  if (localPath.at(-1) === 'to' || localPath.at(-1) === 'cc') {
    return `${where} must be an email address or a list of addresses`;
  }
  return `${where} does not match any allowed form`;
}

/** "when auth.type is bearer" for requirements that come from an if/then branch. */
function thenCondition(schema: Record<string, unknown>, schemaPath: string, localPath: Path): string {
  const idx = schemaPath.lastIndexOf('/then/');
  if (idx < 0) return '';
  const ifSchema = schemaAt(schema, schemaPath.slice(0, idx) + '/if');
  const props = ifSchema?.properties as Record<string, { const?: unknown }> | undefined;
  if (!props) return '';
  const [field, rule] = Object.entries(props)[0] ?? [];
  if (!field || rule?.const === undefined) return '';
  return ` when ${displayPath([...localPath, field])} is ${String(rule.const)}`;
}

function dedupe(messages: SchemaMessage[]): SchemaMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const key = `${displayPath(m.path)}|${m.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
