import { codePointLabel, controlCharacterAt } from '../../manifest/control.js';
import { compileTemplate, expandPiecesApart, type TemplateVars } from '../../manifest/template.js';

export type ArgvExpansion = { ok: true; argv: string[] } | { ok: false; error: string };

const MAX_SHOWN = 60;

function shown(value: string): string {
  return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
}

/** Why a substituted value may not stand in this slot, or undefined when it may. */
function substitutionProblem(value: string, slot: number, afterDoubleDash: boolean): string | undefined {
  const control = controlCharacterAt(value);
  if (control >= 0) {
    return (
      `holds the control character ${codePointLabel(value, control)} at position ${control}; ` +
      'a substituted value with control characters is never passed to a program'
    );
  }
  if (value.startsWith('-') && !afterDoubleDash) {
    return (
      `is ${shown(value)}, which begins with "-" and would be read as an option. ` +
      `If the program takes its operands after --, put a literal "--" argument before argv[${slot}]`
    );
  }
  return undefined;
}

/**
 * Expands an action's argv template, one argument per template argument. The operator wrote the template;
 * the values substituted into it (object names, event fields) come from committers and event senders, so
 * one may neither begin with "-" (unless a literal "--" argument comes before its slot) nor hold a control
 * character. A refusal names the slot and the variable; the caller then never starts the program.
 */
export function expandArgv(template: readonly string[], vars: TemplateVars): ArgvExpansion {
  const argv: string[] = [];
  let afterDoubleDash = false;
  for (const [slot, arg] of template.entries()) {
    let text = '';
    for (const piece of expandPiecesApart(compileTemplate(arg), vars)) {
      if ('literal' in piece) {
        text += piece.literal;
        continue;
      }
      const problem = substitutionProblem(piece.value, slot, afterDoubleDash);
      if (problem) {
        return { ok: false, error: `argv[${slot}] ${JSON.stringify(arg)}: \${${piece.variable}} ${problem}` };
      }
      text += piece.value;
    }
    argv.push(text);
    // Only the operator's own "--" ends the options: one a variable expands to was refused above.
    if (arg === '--') afterDoubleDash = true;
  }
  return { ok: true, argv };
}
