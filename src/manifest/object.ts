import { valueDepthExceeds } from './depth.js';
import { LIMITS } from './limits.js';
import { checkReferences, type DriverCatalog } from './references.js';
import { checkSecretReferences } from './secret-references.js';
import type { SecretPolicy } from './secret-policy.js';
import { displayPath, translateSchemaErrors } from './schema-errors.js';
import { compiledSchemas, SCHEMAS } from './schemas.js';
import { findLiteralSecrets } from './security.js';
import { semanticFindings } from './semantic.js';
import { API_VERSION, type Kind, type LoadedManifest, type Manifest, type ObjectMetadata } from './types.js';

export interface ObjectValidation {
  /** The normalized manifest (defaults applied) when there is no problem. */
  manifest?: LoadedManifest;
  /** `path: message` lines. */
  problems: string[];
}

/**
 * Validates one object that did not come from a file (made through the API) exactly like a manifest:
 * secrets, schema (with defaults applied), semantics, and references against the other live objects.
 */
export function validateObject(
  kind: Kind,
  metadata: ObjectMetadata,
  spec: Record<string, unknown>,
  others: readonly Manifest[],
  opts: { defaultZone: string; driverCatalog?: DriverCatalog; secretPolicy?: SecretPolicy },
): ObjectValidation {
  // Every check below walks the spec recursively: bound its depth first, without recursion.
  if (valueDepthExceeds(spec)) {
    return {
      problems: [`spec nests deeper than ${LIMITS.maxDepth} levels of lists and mappings; flatten it`],
    };
  }
  const normalized = structuredClone(spec);
  const problems = findLiteralSecrets(normalized).map((f) => `${displayPath(f.path)}: ${f.message}`);
  const validate = compiledSchemas().spec[kind];
  const valid: boolean = validate(normalized);
  if (!valid) {
    const messages = translateSchemaErrors(validate.errors ?? [], normalized, SCHEMAS[kind], ['spec'], kind);
    problems.push(...messages.map((m) => m.message));
  }
  if (problems.length > 0) return { problems };
  const source = { file: 'api', line: 1, col: 1 };
  const manifest = { apiVersion: API_VERSION, kind, metadata, spec: normalized, source } as LoadedManifest;
  problems.push(
    ...semanticFindings(manifest, opts.defaultZone).map((f) => `${displayPath(f.path)}: ${f.message}`),
  );
  const live = others.map((m) => ({ ...m, source }) as LoadedManifest);
  const refs = checkReferences([...live, manifest], opts.driverCatalog);
  problems.push(
    ...refs.errors.filter((e) => e.manifest === manifest).map((e) => `${displayPath(e.path)}: ${e.message}`),
  );
  // Only with a policy: the API serves an engine, which always has one; without it the engine still refuses at run time.
  if (opts.secretPolicy) {
    const secrets = checkSecretReferences([manifest], opts.secretPolicy);
    problems.push(...secrets.errors.map((e) => `${displayPath(e.path)}: ${e.message}`));
  }
  return problems.length > 0 ? { problems } : { manifest, problems };
}
