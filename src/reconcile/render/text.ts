import type { Plan, PlanChange } from '../plan.js';
import { escapeControl } from '../../manifest/control.js';
import { PLAIN_PALETTE, type PlanPalette } from './palette.js';
import {
  defaultsLine,
  eventMatchLine,
  fieldLines,
  firingLines,
  noChangesLine,
  summaryLine,
  warningText,
  type DiffLine,
} from './values.js';

export interface TextRenderOptions {
  palette?: PlanPalette;
  /** After an apply: the last line says what was applied instead of what would be. */
  applied?: boolean;
}

const SIGN: Record<PlanChange['action'], '+' | '~' | '-'> = { create: '+', update: '~', delete: '-' };

function colourFor(p: PlanPalette, sign: DiffLine['sign']): (s: string) => string {
  if (sign === '+') return p.green;
  if (sign === '-') return p.red;
  if (sign === '~') return p.yellow;
  return (s) => s;
}

function qualifier(change: PlanChange): string {
  if (change.adopt) return ' (made through the API; taskops takes it over)';
  if (change.drift) return ' (drift: changed by hand since it was applied; put back to the source)';
  return '';
}

function block(change: PlanChange, p: PlanPalette): string[] {
  const sign = SIGN[change.action];
  const lines = [
    `  ${colourFor(p, sign)(sign)} ${p.bold(`${change.kind}/${escapeControl(change.name)}`)}${p.dim(qualifier(change))}`,
  ];
  for (const fc of change.fieldChanges) {
    const { head, body } = fieldLines(fc);
    lines.push(`      ${colourFor(p, head.sign)(`${head.sign} ${head.text}`)}`);
    for (const l of body) lines.push(`          ${colourFor(p, l.sign)(`${l.sign}${l.text}`)}`);
  }
  const defaults = defaultsLine(change.defaults);
  if (defaults) lines.push(`        ${p.dim(defaults)}`);
  const matches = eventMatchLine(change.eventMatches);
  if (matches) lines.push(`      ${p.cyan(matches)}`);
  const firings = firingLines(change.firings);
  if (firings) {
    lines.push(`      ${p.cyan(firings.heading)}`);
    for (const row of firings.rows) lines.push(`          ${row}`);
  }
  return lines;
}

/** A Terraform-like plan: a block per object, notes, and exactly one summary line last. */
export function renderText(plan: Plan, opts: TextRenderOptions = {}): string {
  const p = opts.palette ?? PLAIN_PALETTE;
  const out: string[] = [];
  if (plan.changes.length > 0) {
    out.push(
      opts.applied
        ? `taskops applied these changes from ${plan.revision}:`
        : `taskops will perform these actions to match ${plan.revision}:`,
      '',
    );
    for (const change of plan.changes) out.push(...block(change, p), '');
  }
  if (plan.notes.length > 0) {
    out.push('Notes:');
    // Names of objects made by hand never went through validation.
    for (const n of plan.notes) out.push(`  ${p.dim(`${n.kind}/${escapeControl(n.name)}: ${n.message}`)}`);
    out.push('');
  }
  if (plan.refused && !opts.applied) {
    out.push(
      p.red(p.bold('Applying this plan would be refused:')),
      `  ${escapeControl(plan.refused.message)}`,
      '',
    );
  }
  if (plan.warnings.length > 0) {
    out.push('Warnings:');
    for (const w of plan.warnings) out.push(`  ${p.yellow(escapeControl(warningText(w)))}`);
    out.push('');
  }
  if (plan.changes.length === 0) out.push(noChangesLine(plan.revision));
  else if (opts.applied) {
    const s = plan.summary;
    out.push(`Applied: ${s.create} created, ${s.update} updated, ${s.delete} deleted.`);
  } else out.push(p.bold(summaryLine(plan.summary)));
  return out.join('\n') + '\n';
}
