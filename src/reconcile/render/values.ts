import { structuredPatch } from 'diff';
import { escapeControl, escapeControlKeepingLines } from '../../manifest/control.js';
import { isPlainObject } from '../fields.js';
import type { FieldChange, PlanEventMatches, PlanFiring, PlanFirings, PlanWarning } from '../plan.js';
import { maskAt, SecretReference } from './mask.js';

/** Sorted keys and secret references as strings: what every renderer serializes, so output never varies. */
export function stable(value: unknown): unknown {
  if (value instanceof SecretReference) return value.ref;
  if (Array.isArray(value)) return value.map(stable);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = stable(value[key]);
    return out;
  }
  return value;
}

/** One value on one line: strings quoted, secret references bare (`env:TOKEN`), structures as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '(none)';
  if (value instanceof SecretReference) return value.ref;
  // JSON escapes C0 controls but leaves DEL and C1 raw; a terminal must not receive those either.
  return escapeControl(JSON.stringify(stable(value)));
}

const isMultiline = (v: unknown): boolean => typeof v === 'string' && v.includes('\n');

export type DiffLine = { sign: '+' | '-' | '~' | ' '; text: string };

/**
 * The lines of one field change, masked: `~ path: a → b`, `+ path: v`, `- path: v`, or for multi-line strings
 * `~ path:` followed by a unified diff of the text.
 */
export interface FieldLines {
  head: DiffLine;
  /** The unified diff of a multi-line string. */
  body: DiffLine[];
  /** Both sides of a one-line update, formatted, for renderers that show them as a -/+ pair. */
  pair?: { before: string; after: string };
}

export function fieldLines(change: FieldChange): FieldLines {
  const before = maskAt(change.path, change.before);
  const after = maskAt(change.path, change.after);
  if (isMultiline(before) || isMultiline(after)) {
    const sign = before === undefined ? '+' : after === undefined ? '-' : '~';
    return { head: { sign, text: `${change.path}:` }, body: textDiff(asText(before), asText(after)) };
  }
  if (before === undefined)
    return { head: { sign: '+', text: `${change.path}: ${formatValue(after)}` }, body: [] };
  if (after === undefined)
    return { head: { sign: '-', text: `${change.path}: ${formatValue(before)}` }, body: [] };
  const pair = { before: formatValue(before), after: formatValue(after) };
  return { head: { sign: '~', text: `${change.path}: ${pair.before} → ${pair.after}` }, body: [], pair };
}

const asText = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : formatValue(v));

/** Stands between two hunks of a text diff, where unchanged lines are left out. */
export const HUNK_GAP = '⋮';

/** A unified diff (3 lines of context) of two texts, as signed lines; hunks apart by a gap line, no headers. */
export function textDiff(before: string, after: string): DiffLine[] {
  const patch = structuredPatch('before', 'after', before, after, '', '', { context: 3 });
  const out: DiffLine[] = [];
  for (const [index, hunk] of patch.hunks.entries()) {
    if (index > 0) out.push({ sign: ' ', text: HUNK_GAP });
    for (const line of hunk.lines) {
      // "\ No newline at end of file" says nothing useful about a YAML string.
      if (line.startsWith('\\')) continue;
      const sign = line[0] === '+' ? '+' : line[0] === '-' ? '-' : ' ';
      // Control characters from a manifest must not drive the reader's terminal.
      out.push({ sign, text: escapeControlKeepingLines(line.slice(1)) });
    }
  }
  return out;
}

/** A create's fields left at their schema default, on one line: `defaults: concurrency "forbid", enabled true`. */
export function defaultsLine(defaults: FieldChange[]): string | null {
  if (defaults.length === 0) return null;
  const items = defaults.map(
    (d) => `${d.path.replace(/^spec\./, '')} ${formatValue(maskAt(d.path, d.after))}`,
  );
  return `defaults: ${items.join(', ')}`;
}

export const summaryLine = (s: { create: number; update: number; delete: number }): string =>
  `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete.`;

export const noChangesLine = (revision: string): string => `No changes. Live state matches ${revision}.`;

export const warningText = (w: PlanWarning): string => (w.object ? `${w.object}: ${w.message}` : w.message);

/** The firings of one change as a heading and rows, the same in every renderer. */
export interface FiringLines {
  heading: string;
  rows: string[];
}

export function firingLines(f: PlanFirings | null | undefined): FiringLines | null {
  if (!f || (f.before.length === 0 && f.after.length === 0)) return null;
  const several = new Set([...f.before, ...f.after].map((x) => x.schedule)).size > 1;
  const show = (x: PlanFiring | undefined) =>
    x === undefined ? '(none)' : escapeControl(several ? `${x.local} [${x.schedule}]` : x.local);
  if (f.after.length === 0)
    return { heading: 'firings that will no longer happen:', rows: f.before.map((x) => show(x)) };
  if (f.before.length === 0) return { heading: 'next firings:', rows: f.after.map((x) => show(x)) };
  const n = Math.max(f.before.length, f.after.length);
  const width = Math.max(...f.before.map((x) => show(x).length), '(none)'.length);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = show(f.before[i]);
    const a = show(f.after[i]);
    rows.push(`${b.padEnd(width)}  →  ${a}`);
  }
  return { heading: 'next firings, before → after:', rows };
}

/** `would have fired 12 times last week (was 3)`, over the events the live store recorded. */
export function eventMatchLine(m: PlanEventMatches | null | undefined): string | null {
  if (!m) return null;
  const times = (n: number) => `${n} time${n === 1 ? '' : 's'}`;
  const span = m.days === 7 ? 'last week' : `in the last ${m.days} days`;
  return `would have fired ${times(m.after)} ${span}${m.before === null ? '' : ` (was ${m.before})`}`;
}
