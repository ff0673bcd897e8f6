import { parseCron } from './cron.js';
import { BUILT_IN_DRIVERS, builtInDriver } from './drivers.js';
import type { Path } from './schema-errors.js';
import { findTemplateProblems, parsePayloadTemplate } from './template.js';
import { ianaSpellingOf, isValidTimeZone, parseScheduleDateTime } from './time.js';
import type { LoadedManifest, ScheduleSpec, TagSpec, TaskSpec } from './types.js';

export interface SemanticFinding {
  path: Path;
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** Where in the value's text (a JSON text payload) the problem is, to point at its line. */
  textOffset?: number;
}

/** Built-in object types and the actions they offer (from the driver declarations); others come from the engine's drivers. */
export const BUILTIN_ACTIONS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(BUILT_IN_DRIVERS).map(([type, d]) => [type, d.actions]),
);

/** Checks that need more than a schema: cron syntax, real zones and dates, payload templates. */
export function semanticFindings(manifest: LoadedManifest, defaultZone = 'UTC'): SemanticFinding[] {
  switch (manifest.kind) {
    case 'Schedule':
      return scheduleFindings(manifest.spec as ScheduleSpec, defaultZone);
    case 'Task':
      return taskFindings(manifest.spec as TaskSpec);
    case 'Tag':
      return tagFindings(manifest.spec as TagSpec);
    default:
      return [];
  }
}

function scheduleFindings(spec: ScheduleSpec, defaultZone: string): SemanticFinding[] {
  const out: SemanticFinding[] = [];
  let zone = defaultZone;
  if (spec.timezone !== undefined) {
    const spelling = ianaSpellingOf(spec.timezone);
    if (spelling !== null) {
      out.push({
        path: ['spec', 'timezone'],
        message: `time zone ${JSON.stringify(spec.timezone)} is not spelled as IANA does: write ${JSON.stringify(spelling)}`,
      });
    } else if (isValidTimeZone(spec.timezone)) zone = spec.timezone;
    else {
      out.push({
        path: ['spec', 'timezone'],
        message: `unknown time zone ${JSON.stringify(spec.timezone)}; use an IANA name like Europe/Berlin or America/New_York`,
      });
    }
  }
  if (spec.cron !== undefined) {
    const parsed = parseCron(spec.cron);
    if (!parsed.ok) out.push({ path: ['spec', 'cron'], message: parsed.message });
  }
  const instants: Record<string, number> = {};
  for (const field of ['once', 'startsAt', 'endsAt'] as const) {
    const text = spec[field];
    if (text === undefined) continue;
    const parsed = parseScheduleDateTime(text, zone);
    if (parsed.ok) instants[field] = parsed.instant.getTime();
    else out.push({ path: ['spec', field], message: `${field}: ${parsed.message}` });
  }
  if (
    instants.startsAt !== undefined &&
    instants.endsAt !== undefined &&
    instants.endsAt <= instants.startsAt
  ) {
    out.push({ path: ['spec', 'endsAt'], message: 'endsAt must be later than startsAt' });
  }
  const repeat = spec.repeat;
  if (repeat?.on) {
    repeat.on.forEach((day, i) => {
      const isWeekday = typeof day === 'string' && day !== 'last';
      if (repeat.unit === 'weeks' && !isWeekday) {
        out.push({
          path: ['spec', 'repeat', 'on', i],
          message: `weekly repeats take weekdays (monday ... sunday), got ${JSON.stringify(day)}`,
        });
      } else if (repeat.unit === 'months' && isWeekday) {
        out.push({
          path: ['spec', 'repeat', 'on', i],
          message: `monthly repeats take days of the month 1-31 or last, got ${JSON.stringify(day)}`,
        });
      } else if (repeat.unit !== 'weeks' && repeat.unit !== 'months') {
        out.push({
          path: ['spec', 'repeat', 'on'],
          message: `repeat.on applies to unit weeks or months, not ${repeat.unit}`,
        });
      }
    });
  }
  return dedupeByPath(out);
}

function tagFindings(spec: TagSpec): SemanticFinding[] {
  if (spec.membersOf && (spec.members ?? []).length > 0)
    return [
      {
        path: ['spec', 'members'],
        message: 'a Tag takes members or membersOf, not both: its members come from membersOf at run time',
      },
    ];
  return [];
}

function taskFindings(spec: TaskSpec): SemanticFinding[] {
  const out: SemanticFinding[] = [];
  const declared = builtInDriver(spec.objectType);
  const builtin = declared?.actions;
  if (builtin && !builtin.includes(spec.action)) {
    out.push({
      path: ['spec', 'action'],
      message: `${spec.objectType} tasks take action ${builtin.join(' or ')} (got ${JSON.stringify(spec.action)})`,
    });
  }
  if (declared?.target === 'none' && spec.target) {
    out.push({
      path: ['spec', 'target'],
      message: `${spec.objectType} tasks take no target: recipients go in params.to`,
    });
  }
  let params = (spec.params ?? {}) as Record<string, unknown>;
  if (declared?.params === 'payload' && params.payload !== undefined) {
    const parsed = parsePayloadTemplate(params.payload as string | object);
    if (!parsed.ok) {
      const path = ['spec', 'params', 'payload', ...(parsed.path ?? [])];
      const inText = typeof params.payload === 'string' && parsed.offset !== undefined;
      out.push({
        path,
        message: parsed.message,
        // In JSON text the key is inside the value: point into the text, not at the YAML key `payload`.
        ...(parsed.atKey && !inText ? { atKey: true } : {}),
        ...(inText ? { textOffset: parsed.offset } : {}),
      });
    }
    // Check the strings the payload holds once parsed: a JSON escape such as \u0024{X} is still a variable.
    else if (typeof params.payload === 'string') params = { ...params, payload: JSON.parse(params.payload) };
  }
  visitStrings(params, ['spec', 'params'], (text, path) => {
    if (!text.includes('$')) return; // no variable, nothing to check: the common case
    for (const p of findTemplateProblems(text)) out.push({ path: path(), message: p.message });
  });
  return out;
}

/** Calls `fn` for every string (keys too) below `node`; the path is copied only when `fn` keeps it. */
function visitStrings(node: unknown, path: Path, fn: (text: string, path: () => Path) => void): void {
  const here = () => [...path];
  if (typeof node === 'string') fn(node, here);
  else if (Array.isArray(node)) {
    node.forEach((item, i) => {
      path.push(i);
      visitStrings(item, path, fn);
      path.pop();
    });
  } else if (node && typeof node === 'object') {
    for (const key of Object.keys(node)) {
      path.push(key);
      fn(key, here);
      visitStrings((node as Record<string, unknown>)[key], path, fn);
      path.pop();
    }
  }
}

function dedupeByPath(findings: SemanticFinding[]): SemanticFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = f.path.join('.') + f.message;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
