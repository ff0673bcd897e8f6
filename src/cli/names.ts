import { escapeControl } from '../manifest/index.js';
import { closest } from '../manifest/suggest.js';
import { CliError } from './exit.js';

/**
 * `Schedule/fridy-6pm is not defined below examples (did you mean friday-6pm?)`: the error for a name that
 * names nothing, with the likeliest typo fix as validate offers one, or what to do when none is close.
 */
export function notFound(
  kind: string,
  name: string,
  known: readonly string[],
  where: string,
  otherwise?: string,
): CliError {
  const hint = closest(name, known);
  const fix = hint
    ? ` (did you mean ${escapeControl(hint)}?)`
    : known.length === 0
      ? ` (there is no ${kind} at all${otherwise ? `; ${otherwise}` : ''})`
      : otherwise
        ? ` (${otherwise})`
        : '';
  return new CliError(`${kind}/${escapeControl(name)} is not ${where}${fix}`);
}
