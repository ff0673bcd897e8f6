import { Ajv } from 'ajv';
import { codePointLabel, controlCharacterAt, escapeControl } from '../manifest/index.js';
import { EVENT_BODY } from '../server/routes/events.js';
import type { EventFieldValue } from '../store/types.js';
import { CliError, EXIT } from './exit.js';

export interface EmitInput {
  type: string;
  name: string;
  object: string | null;
  fields: Record<string, EventFieldValue>;
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
let validateBody: (((value: unknown) => boolean) & { errors?: unknown }) | undefined;

/**
 * The checks `POST /api/v1/events` makes, for in-process `emit`: an event the API refuses with a 400 is
 * refused here too (exit 64), instead of being stored and matching nothing ("no runs", exit 0).
 */
export function checkEventInput(input: EmitInput): void {
  for (const [what, value] of [
    ['type', input.type],
    ['name', input.name],
  ] as const) {
    if (ID.test(value)) continue;
    const lower = value.toLowerCase();
    const hint = ID.test(lower) ? ` (did you mean ${lower}?)` : '';
    throw new CliError(
      `event ${what} ${JSON.stringify(escapeControl(value))} is not valid: event types and names are lowercase ` +
        `letters, digits and -, starting with a letter, at most 63 characters, as the API requires${hint}`,
      EXIT.usage,
    );
  }
  refuseControlCharacters(input.object);
  validateBody ??= new Ajv({ allErrors: false, strict: false }).compile(EVENT_BODY);
  if (!validateBody(input)) {
    const [first] = (validateBody.errors ?? []) as Array<{ instancePath: string; message?: string }>;
    const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'the event';
    throw new CliError(
      `${where} ${first?.message ?? 'is invalid'}, so the API would refuse this event`,
      EXIT.usage,
    );
  }
}

/** An object name reaches drivers and terminals: the event is refused before it is stored. */
function refuseControlCharacters(object: string | null): void {
  const at = object === null ? -1 : controlCharacterAt(object);
  if (object === null || at < 0) return;
  throw new CliError(
    `--object ${JSON.stringify(object)} holds the control character ${codePointLabel(object, at)}; object names cannot`,
    EXIT.usage,
  );
}
