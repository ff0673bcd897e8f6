import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SCHEMA_CHECKS_FILE, schemaChecksCode } from '../../src/manifest/schema-code.js';
import { checkingSchemas, SCHEMA_IDS, schemaAjv, type SchemaName } from '../../src/manifest/schemas.js';
import type { Kind } from '../../src/manifest/types.js';

/** Every YAML document of the examples (manifests and engine configs) and of the invalid corpus, as values. */
function documents(): unknown[] {
  const out: unknown[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.ya?ml$/.test(entry.name))
        for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
          // Malformed YAML and alias bombs are the parser's concern, never reach a schema.
          if (d.errors.length > 0) continue;
          try {
            out.push(d.toJS({ maxAliasCount: 100 }));
          } catch {
            continue;
          }
        }
    }
  };
  walk('examples');
  walk('test/fixtures/invalid');
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value each schema is asked about: the document, its spec (for every kind), the document as a config. */
function inputs(): Array<[SchemaName, unknown]> {
  const kinds = ['Task', 'Schedule', 'EventTrigger', 'Webhook', 'Tag'] as const;
  const out: Array<[SchemaName, unknown]> = [];
  for (const doc of documents()) {
    out.push(['envelope', doc], ['config', doc]);
    const spec = isMapping(doc) ? doc.spec : undefined;
    // Every kind's schema over every spec: the other kinds' specs are invalid ones with realistic shapes.
    for (const kind of kinds) out.push([kind, spec], [kind, {}]);
  }
  out.push(['config', {}], ['config', { defaultTimezone: 'Europe/Paris', store: { replicaId: 7 } }]);
  return out;
}

describe('the first-error schema checks (ajv standalone code in src/)', () => {
  it(`are what schemas/ generates now (node scripts/gen-schema-checks.mjs rewrites ${SCHEMA_CHECKS_FILE})`, () => {
    expect(readFileSync(SCHEMA_CHECKS_FILE, 'utf8') === schemaChecksCode()).toBe(true);
  });

  it('answer as validators compiled from the schemas do, and fill in the same defaults', () => {
    const ajv = schemaAjv(false);
    const generated = checkingSchemas();
    const pick = (name: SchemaName) =>
      name === 'envelope'
        ? generated.envelope
        : name === 'config'
          ? generated.config
          : generated.spec[name as Kind];
    const cases = inputs();
    let valid = 0;
    for (const [name, value] of cases) {
      const compiled = ajv.getSchema(SCHEMA_IDS[name])!;
      const a = structuredClone(value);
      const b = structuredClone(value);
      const expected = compiled(a);
      expect(pick(name)(b), `${name} on ${JSON.stringify(value)}`).toBe(expected);
      expect(b).toEqual(a);
      if (expected) valid++;
    }
    // Both answers occur: the comparison is not between two validators that refuse everything.
    expect(valid).toBeGreaterThan(10);
    expect(cases.length - valid).toBeGreaterThan(10);
  });
});
