import { IANAZone } from 'luxon';

/**
 * Time-zone math for schedules. A "wall" time is a local date-time encoded as
 * the epoch milliseconds it would have in UTC (Date.UTC of the local fields),
 * so calendar arithmetic on it never meets a DST change.
 *
 * Local times are resolved to instants by two fixed rules:
 * - in a repeated (fall-back) hour, the FIRST occurrence;
 * - in a skipped (spring-forward) gap, the first instant after the gap
 *   (02:30 on the US spring-forward day is 03:00 local).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const validity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  let valid = validity.get(zone);
  if (valid === undefined) {
    // luxon builds an Intl formatter per check (~150 us); 100,000 schedules share a handful of zones.
    valid = IANAZone.isValidZone(zone);
    if (validity.size >= 10_000) validity.clear();
    validity.set(zone, valid);
  }
  return valid;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

const FORMATTED = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/;

/** Date.UTC that also handles years 0-99 (which Date.UTC maps to 1900-1999). */
export function civilToWall(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (y >= 100) return t;
  const date = new Date(t);
  date.setUTCFullYear(y);
  return date.getTime();
}

/** The offset as Intl reports it: about 3 us, so it is cached per span below. */
function intlOffsetMinutes(zone: string, instantMs: number): number {
  // format() plus a regex is about 2.5x faster than formatToParts().
  const m = FORMATTED.exec(formatterFor(zone).format(instantMs));
  if (!m) throw new Error(`cannot read the local time in zone ${zone}`);
  const wall = civilToWall(+m[3]!, +m[1]!, +m[2]!, +m[4]!, +m[5]!, +m[6]!);
  const wholeSeconds = Math.floor(instantMs / 1000) * 1000;
  return Math.round((wall - wholeSeconds) / MINUTE_MS);
}

/** The offsets of one zone over one span: offsets[i] applies from changes[i - 1] (or the span start). */
interface Span {
  offsets: number[];
  changes: number[];
}

const SPAN_MS = 64 * DAY_MS;
const SPANS_PER_ZONE = 4096;
const spans = new Map<string, Map<number, Span>>();

/**
 * Samples the zone daily across the span and bisects each change to the second.
 * Assumes no zone changes offset twice within a day, true of every modern tzdb rule.
 */
function buildSpan(zone: string, index: number): Span {
  const start = index * SPAN_MS;
  const span: Span = { offsets: [intlOffsetMinutes(zone, start)], changes: [] };
  for (let t = start + DAY_MS; t <= start + SPAN_MS; t += DAY_MS) {
    const current = span.offsets[span.offsets.length - 1]!;
    const offset = intlOffsetMinutes(zone, Math.min(t, start + SPAN_MS - 1));
    if (offset === current) continue;
    let lo = (t - DAY_MS) / 1000;
    let hi = Math.min(t, start + SPAN_MS - 1000) / 1000;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (intlOffsetMinutes(zone, mid * 1000) === current) lo = mid;
      else hi = mid;
    }
    span.changes.push(hi * 1000);
    span.offsets.push(offset);
  }
  return span;
}

/** The zone's UTC offset in minutes at an instant (New York in winter: -300). */
export function zoneOffsetMinutes(zone: string, instantMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  let zoneSpans = spans.get(zone);
  if (!zoneSpans) spans.set(zone, (zoneSpans = new Map()));
  const index = Math.floor(instantMs / SPAN_MS);
  let span = zoneSpans.get(index);
  if (!span) {
    if (zoneSpans.size >= SPANS_PER_ZONE) zoneSpans.clear();
    span = buildSpan(zone, index);
    zoneSpans.set(index, span);
  }
  let i = 0;
  while (i < span.changes.length && instantMs >= span.changes[i]!) i++;
  return span.offsets[i]!;
}

export function instantToWall(instantMs: number, zone: string): number {
  return instantMs + zoneOffsetMinutes(zone, instantMs) * MINUTE_MS;
}

/**
 * The instant of a local wall time, by the two rules above. Monotonic:
 * a later wall time never resolves to an earlier instant.
 */
export function wallToInstant(wall: number, zone: string): number {
  const before = zoneOffsetMinutes(zone, wall - DAY_MS);
  const after = zoneOffsetMinutes(zone, wall + DAY_MS);
  let best: number | null = null;
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wall - offset * MINUTE_MS;
    if (zoneOffsetMinutes(zone, t) === offset && (best === null || t < best)) best = t;
  }
  if (best !== null) return best;
  // In a gap: the transition instant lies in (wall - after, wall - before]; find its minute.
  let lo = Math.floor((wall - after * MINUTE_MS) / MINUTE_MS);
  let hi = Math.ceil((wall - before * MINUTE_MS) / MINUTE_MS);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffsetMinutes(zone, mid * MINUTE_MS) === before) lo = mid;
    else hi = mid;
  }
  return hi * MINUTE_MS;
}

export interface WallFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday ... 6 = Saturday. */
  weekday: number;
}

export function wallFields(wall: number): WallFields {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(civilToWall(year, month + 1, 0)).getUTCDate();
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/;

export type ParsedDateTime = { ok: true; instant: Date } | { ok: false; message: string };

/**
 * Parses the schema's date-time: `2026-12-24T17:00[:00[.000]]` as local time in
 * `zone`, or with `Z` / `±HH:MM` as that exact instant.
 */
export function parseScheduleDateTime(text: string, zone: string): ParsedDateTime {
  const m = DATE_TIME.exec(text);
  if (!m) {
    return {
      ok: false,
      message: `"${text}" is not a date-time: use YYYY-MM-DDTHH:MM[:SS], optionally ending in Z or an offset like -05:00`,
    };
  }
  const [year, month, day, hour, minute] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!];
  const second = m[6] === undefined ? 0 : +m[6];
  const millis = m[7] === undefined ? 0 : Math.floor(+`0.${m[7]}` * 1000);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, message: `"${text}" is not a real date` };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: `"${text}" is not a real time of day (00:00:00 to 23:59:59)` };
  }
  const wall = civilToWall(year, month, day, hour, minute, second, millis);
  const designator = m[8];
  if (designator === 'Z') return { ok: true, instant: new Date(wall) };
  if (designator !== undefined) {
    const sign = designator.startsWith('-') ? -1 : 1;
    const oh = +designator.slice(1, 3);
    const om = +designator.slice(4, 6);
    if (oh > 18 || om > 59) {
      return { ok: false, message: `"${text}" has an offset out of range (-18:00 to +18:00)` };
    }
    return { ok: true, instant: new Date(wall - sign * (oh * 60 + om) * MINUTE_MS) };
  }
  if (!isValidTimeZone(zone)) {
    return { ok: false, message: `"${zone}" is not a known IANA time zone (like Europe/Berlin or UTC)` };
  }
  return { ok: true, instant: new Date(wallToInstant(wall, zone)) };
}

let canonicalNames: Map<string, string> | null = null;

/**
 * The IANA spelling of a zone name given in another case (`america/new_york` → `America/New_York`), or
 * null when the name is spelled as IANA does or is unknown. Intl accepts any case, but other tools
 * reading the same manifests (and people grepping them) do not.
 */
export function ianaSpellingOf(zone: string): string | null {
  if (!canonicalNames) {
    canonicalNames = new Map();
    for (const name of [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'])
      canonicalNames.set(name.toLowerCase(), name);
  }
  const known = canonicalNames.get(zone.toLowerCase());
  if (known !== undefined) return known === zone ? null : known;
  let spelling = aliasSpellings.get(zone);
  if (spelling === undefined) {
    // An alias (US/Eastern) is not listed: Intl resolves it, and only a difference of case is flagged.
    const resolved = isValidTimeZone(zone)
      ? new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone
      : zone;
    spelling = resolved !== zone && resolved.toLowerCase() === zone.toLowerCase() ? resolved : null;
    // A formatter per call was a tenth of validating 100,000 schedules in an aliased zone (Asia/Kolkata).
    aliasSpellings.set(zone, spelling);
  }
  return spelling;
}

const aliasSpellings = new Map<string, string | null>();
