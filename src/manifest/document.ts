import type { ManifestProblem } from './errors.js';
import type { ParsedDocument } from './parse.js';
import { checkingSchemas, compiledSchemas, SCHEMAS } from './schemas.js';
import { displayPath, translateSchemaErrors, type Path } from './schema-errors.js';
import { findLiteralSecrets } from './security.js';
import { KINDS, type Kind, type LoadedManifest } from './types.js';

export interface DocumentResult {
  manifest?: LoadedManifest;
  /** "Kind/name" when known, even for an invalid document. */
  object?: string;
  problems: ManifestProblem[];
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Schema and security checks of one document; returns the normalized manifest when it is valid. */
export function validateDocument(doc: ParsedDocument): DocumentResult {
  const { positions, value } = doc;
  if (!isMapping(value)) {
    const got = Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`;
    return {
      problems: [
        {
          layer: 'schema',
          location: positions.start(),
          message: `a manifest must be a mapping with apiVersion, kind, metadata and spec (got ${got})`,
        },
      ],
    };
  }
  if (!('apiVersion' in value) && !('kind' in value)) {
    return {
      problems: [
        {
          layer: 'schema',
          location: positions.start(),
          message:
            'not a taskops manifest: a document needs apiVersion: taskops/v1, kind, metadata and spec (keep other YAML outside the manifest folder, or in a dot-folder)',
        },
      ],
    };
  }
  const kind = KINDS.includes(value.kind as Kind) ? (value.kind as Kind) : undefined;
  const name =
    isMapping(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
  const object = kind && name ? `${kind}/${name}` : undefined;
  const problems: ManifestProblem[] = [];
  const report = (layer: ManifestProblem['layer'], path: Path, message: string, atKey = false) =>
    problems.push({ layer, location: positions.locate(path, { key: atKey }), object, message });

  const fast = checkingSchemas();
  const schemas = compiledSchemas();
  // The fast validator decides; the explaining one runs only for a document that is invalid.
  const envelopeValid: boolean = fast.envelope(value) || schemas.envelope(value);
  if (!envelopeValid) {
    for (const m of translateSchemaErrors(schemas.envelope.errors ?? [], value, SCHEMAS.manifest, [])) {
      const message =
        m.path.length === 1 && m.path[0] === 'kind' && value.kind !== undefined
          ? `unknown kind ${JSON.stringify(value.kind)}; expected one of Task, Schedule, EventTrigger, Webhook, Tag`
          : m.message;
      report('schema', m.path, message, m.atKey);
    }
  }
  if (kind && isMapping(value.spec)) {
    const secrets = findLiteralSecrets(value.spec);
    for (const s of secrets) report('security', s.path, s.message, s.atKey);
    const secretPaths = new Set(secrets.map((s) => displayPath(s.path)));
    const validate = schemas.spec[kind];
    const specValid: boolean = fast.spec[kind](value.spec) || validate(value.spec);
    if (!specValid) {
      for (const m of translateSchemaErrors(
        validate.errors ?? [],
        value.spec,
        SCHEMAS[kind],
        ['spec'],
        kind,
      )) {
        // The security finding already explains this field better than "unknown field".
        if (secretPaths.has(displayPath(m.path))) continue;
        report('schema', m.path, m.message, m.atKey);
      }
    }
  }
  if (problems.length > 0 || !kind) return { object, problems };
  return {
    object,
    problems,
    manifest: { ...(value as unknown as LoadedManifest), source: positions.start() },
  };
}
