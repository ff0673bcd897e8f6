import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
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

/** A compiled schema as its callers use it: true when valid, else the errors of the last call. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export interface CompiledSchemas {
  envelope: SchemaValidator;
  spec: Record<Kind, SchemaValidator>;
  config: SchemaValidator;
}

const SPEC_KINDS = ['Task', 'Schedule', 'EventTrigger', 'Webhook', 'Tag'] as const;
type SchemaName = 'envelope' | 'config' | (typeof SPEC_KINDS)[number];
const SCHEMA_NAMES: readonly SchemaName[] = ['envelope', 'config', ...SPEC_KINDS];
const ENVELOPE_ID = 'https://taskops.dev/schemas/v1/envelope.schema.json';

/** One Ajv per mode, holding every schema; a schema is compiled only when its validator is first called. */
function schemaCompiler(explain: boolean): (name: SchemaName) => ValidateFunction {
  let ajv: Ajv | undefined;
  const instance = (): Ajv => {
    if (ajv) return ajv;
    // useDefaults fills in schema defaults, so desired state is normalized for diffing.
    ajv = new Ajv({
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
    ajv.addSchema({ ...manifestEnvelope, $id: ENVELOPE_ID });
    ajv.addSchema(SCHEMAS.config);
    return ajv;
  };
  return (name) => {
    const id = name === 'envelope' ? ENVELOPE_ID : String(SCHEMAS[name].$id);
    return instance().getSchema(id)!;
  };
}

/** The validators of every schema, each compiled on its first call (a command that never validates one never pays for it). */
function lazyValidators(validator: (name: SchemaName) => SchemaValidator): CompiledSchemas {
  const all = Object.fromEntries(SCHEMA_NAMES.map((n) => [n, validator(n)])) as Record<
    SchemaName,
    SchemaValidator
  >;
  const spec = Object.fromEntries(SPEC_KINDS.map((kind) => [kind, all[kind]])) as Record<
    Kind,
    SchemaValidator
  >;
  return { envelope: all.envelope, spec, config: all.config };
}

function compiledOnFirstCall(compile: () => ValidateFunction): SchemaValidator {
  let compiled: ValidateFunction | undefined;
  const validate: SchemaValidator = (data) => {
    compiled ??= compile();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

let explaining: CompiledSchemas | undefined;
let checking: CompiledSchemas | undefined;

/**
 * Validators that report every error with the failing schema (for messages). Each runs the first-error
 * validator first and compiles its explaining one only for data that is invalid: valid data, the common
 * case, gets the same answer and the same defaults filled in without that second (and slower) compilation.
 */
export function compiledSchemas(): CompiledSchemas {
  if (explaining) return explaining;
  const fast = checkingSchemas();
  const explainer = schemaCompiler(true);
  const fastOf = (name: SchemaName) =>
    name === 'envelope' ? fast.envelope : name === 'config' ? fast.config : fast.spec[name];
  return (explaining = lazyValidators((name) => {
    const check = fastOf(name);
    const explain = compiledOnFirstCall(() => explainer(name));
    const validate: SchemaValidator = (data) => {
      if (check(data)) {
        validate.errors = null;
        return true;
      }
      const valid = explain(data);
      validate.errors = explain.errors;
      return valid;
    };
    return validate;
  }));
}

/**
 * Validators that stop at the first error and keep no error detail: the fast path for the common, valid
 * document. On failure, run `compiledSchemas()` for the full explanation.
 */
export function checkingSchemas(): CompiledSchemas {
  if (checking) return checking;
  const compile = schemaCompiler(false);
  return (checking = lazyValidators((name) => compiledOnFirstCall(() => compile(name))));
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
