import { escapeControl } from '../../manifest/control.js';
import type { Plan, PlanChange } from '../plan.js';
import {
  defaultsLine,
  eventMatchLine,
  fieldLines,
  firingLines,
  noChangesLine,
  summaryLine,
  warningText,
} from './values.js';

/** GitHub refuses comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Room kept for what a CI step wraps around the plan (a marker, a heading, a link). */
const WRAPPER_ROOM = 2_048;
/** One object's diff is cut here so a single huge payload cannot crowd out every other object. */
const MAX_OBJECT_DIFF = 16_000;

const ACTION_LABEL: Record<PlanChange['action'], string> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
};
const SIGN: Record<PlanChange['action'], string> = { create: '+', update: '~', delete: '-' };

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const inlineCode = (s: string): string => `<code>${escapeHtml(escapeControl(s))}</code>`;

/** A code fence longer than any run of backticks inside the content, so content can never close it. */
function fence(content: string): string {
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** Diff-highlighted lines: updates as a -/+ pair so GitHub colours both sides. */
function diffBody(change: PlanChange): string {
  const lines: string[] = [];
  for (const fc of change.fieldChanges) {
    const { head, body, pair } = fieldLines(fc);
    if (body.length > 0) {
      lines.push(`${head.sign === '~' ? '!' : head.sign} ${head.text}`);
      for (const l of body) lines.push(`${l.sign}   ${l.text}`);
    } else if (pair) {
      lines.push(`- ${fc.path}: ${pair.before}`, `+ ${fc.path}: ${pair.after}`);
    } else lines.push(`${head.sign} ${head.text}`);
  }
  const defaults = defaultsLine(change.defaults);
  if (defaults) lines.push(`  ${defaults}`);
  const matches = eventMatchLine(change.eventMatches);
  if (matches) lines.push(`  ${matches}`);
  if (lines.length === 0)
    lines.push(
      change.adopt ? '  (no content change: taskops takes over the object)' : '  (no field changes)',
    );
  let text = lines.join('\n');
  if (text.length > MAX_OBJECT_DIFF) {
    text =
      text.slice(0, MAX_OBJECT_DIFF) +
      `\n… diff cut at ${MAX_OBJECT_DIFF} characters; run taskops plan for all of it`;
  }
  return text;
}

function section(change: PlanChange): string {
  const note = change.drift
    ? ' — drift, put back to the source'
    : change.adopt
      ? ' — taken over from the API'
      : '';
  const body = diffBody(change);
  const f = fence(body);
  const firings = firingLines(change.firings);
  const firingFence = firings ? fence(firings.rows.join('\n')) : '';
  const firingBlock = firings
    ? [
        `**${escapeHtml(firings.heading.replace(/:$/, ''))}**`,
        '',
        firingFence,
        ...firings.rows,
        firingFence,
        '',
      ]
    : [];
  return [
    `<details><summary>${inlineCode(`${SIGN[change.action]} ${change.kind}/${change.name}`)} ${ACTION_LABEL[change.action]}${note}</summary>`,
    '',
    `${f}diff`,
    body,
    f,
    '',
    ...firingBlock,
    '</details>',
    '',
  ].join('\n');
}

/** The first line of every markdown plan: a CI step finds its earlier comment by it and updates it in place. */
export const PLAN_COMMENT_MARKER = '<!-- taskops-plan -->';

/** What a pull-request reviewer needs beside the diff: the two commits compared, and who will apply it. */
export interface ReviewContext {
  base: string;
  head: string;
  /** Set when an engine follows the branch with auto-apply: its address. Otherwise a saved plan applies it. */
  autoSync?: string;
}

export interface MarkdownOptions {
  review?: ReviewContext;
}

function reviewLines(review: ReviewContext | undefined): string[] {
  if (!review) return [];
  const applied = review.autoSync
    ? `the engine's auto-sync at ${inlineCode(review.autoSync)} applies it on its next poll after the merge ` +
      `(or at once with ${inlineCode(`taskops reconcile --server ${review.autoSync}`)}).`
    : `no engine applies it by itself: after the merge, save a plan with ${inlineCode('taskops reconcile --dry-run --out plan.json')}, ` +
      `review it, and apply exactly that with ${inlineCode('taskops reconcile --plan plan.json')} (refused if stale).`;
  return [
    `Base ${inlineCode(review.base)} → head ${inlineCode(review.head)}`,
    '',
    `**How it is applied:** ${applied}`,
    '',
  ];
}

/** GitHub alert blocks: a refusal as CAUTION, warnings as one WARNING list. */
function banners(plan: Plan): string[] {
  const out: string[] = [];
  const quote = (s: string) => escapeHtml(escapeControl(s)).replace(/\n/g, ' ');
  if (plan.refused) {
    out.push(
      '> [!CAUTION]',
      `> **Applying this plan would be refused** (${plan.refused.reason}): ${quote(plan.refused.message)}`,
      '',
    );
  }
  if (plan.warnings.length > 0) {
    out.push('> [!WARNING]', ...plan.warnings.map((w) => `> - ${quote(warningText(w))}`), '');
  }
  return out;
}

/**
 * A pull-request comment: a summary table, then one collapsible diff per object. Stays under GitHub's
 * 65,536-character limit by folding the objects that do not fit into a note.
 */
export function renderMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
  const s = plan.summary;
  const head = [
    PLAN_COMMENT_MARKER,
    `### taskops plan for ${inlineCode(plan.revision)}`,
    '',
    ...reviewLines(opts.review),
    ...banners(plan),
    '| Action | Objects |',
    '| --- | ---: |',
    `| Create | ${s.create} |`,
    `| Update | ${s.update} |`,
    `| Delete | ${s.delete} |`,
    '',
  ].join('\n');
  const notes = plan.notes.length
    ? plan.notes.map((n) => `> ${inlineCode(`${n.kind}/${n.name}`)}: ${escapeHtml(n.message)}`).join('\n') +
      '\n\n'
    : '';
  const last = plan.changes.length === 0 ? noChangesLine(plan.revision) : summaryLine(s);
  const tail = `${notes}${escapeHtml(last)}\n`;
  const budget = GITHUB_COMMENT_LIMIT - WRAPPER_ROOM - head.length - tail.length - 400;

  const sections: string[] = [];
  let used = 0;
  let shown = 0;
  for (const change of plan.changes) {
    const text = section(change);
    if (used + text.length > budget) break;
    sections.push(text);
    used += text.length;
    shown++;
  }
  const hidden = plan.changes.length - shown;
  const folded =
    hidden > 0
      ? `> **${hidden} more object${hidden === 1 ? '' : 's'} not shown** to stay under GitHub's ` +
        `${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit; run \`taskops plan\` locally for the full plan.\n\n`
      : '';
  return `${head}\n${sections.join('\n')}${sections.length ? '\n' : ''}${folded}${tail}`;
}
