import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Kind } from './types.js';

const require = createRequire(import.meta.url);

/** The JSON Schemas of schemas/, loaded once: the single source of truth for validation. */
export const SCHEMAS = {
  common: require('../../schemas/common.schema.json') as Record<string, unknown>,
  manifest: require('../../schemas/manifest.schema.json') as Record<string, unknown>,
  Task: require('../../schemas/task.schema.json') as Record<string, unknown>,
  Schedule: require('../../schemas/schedule.schema.json') as Record<string, unknown>,
  EventTrigger: require('../../schemas/eventtrigger.schema.json') as Record<string, unknown>,
  Webhook: require('../../schemas/webhook.schema.json') as Record<string, unknown>,
  Tag: require('../../schemas/tag.schema.json') as Record<string, unknown>,
  config: require('../../schemas/config.schema.json') as Record<string, unknown>,
};

export interface CompiledSchemas {
  envelope: ValidateFunction;
  spec: Record<Kind, ValidateFunction>;
  config: ValidateFunction;
}

const SPEC_KINDS = ['Task', 'Schedule', 'EventTrigger', 'Webhook', 'Tag'] as const;

function compileAll(explain: boolean): CompiledSchemas {
  // useDefaults fills in schema defaults, so desired state is normalized for diffing.
  const ajv = new Ajv({
    allErrors: explain,
    verbose: explain,
    useDefaults: true,
    strict: false,
    allowUnionTypes: true,
  });
  ajv.addKeyword({ keyword: 'tsType' });
  ajv.addSchema(SCHEMAS.common);
  for (const kind of SPEC_KINDS) ajv.addSchema(SCHEMAS[kind]);
  // The envelope alone: the per-kind dispatch of manifest.schema.json (for editors) is done by code here,
  // so spec errors carry the kind's own schema paths.
  const { allOf: _dispatch, ...manifestEnvelope } = SCHEMAS.manifest;
  const envelope = { ...manifestEnvelope, $id: 'https://taskops.dev/schemas/v1/envelope.schema.json' };
  return {
    envelope: ajv.compile(envelope),
    spec: Object.fromEntries(
      SPEC_KINDS.map((kind) => [kind, ajv.getSchema(String(SCHEMAS[kind].$id))!]),
    ) as Record<Kind, ValidateFunction>,
    config: ajv.compile(SCHEMAS.config),
  };
}

let explaining: CompiledSchemas | undefined;
let checking: CompiledSchemas | undefined;

/** Validators that report every error with the failing schema (for messages). Compiled once per process. */
export function compiledSchemas(): CompiledSchemas {
  return (explaining ??= compileAll(true));
}

/**
 * Validators that stop at the first error and keep no error detail: the fast path for the common, valid
 * document. On failure, run `compiledSchemas()` for the full explanation.
 */
export function checkingSchemas(): CompiledSchemas {
  return (checking ??= compileAll(false));
}

/** Resolves a JSON pointer ("#/properties/x") inside one of our schemas. */
export function schemaAt(
  root: Record<string, unknown>,
  pointer: string,
): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const raw of pointer.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}
