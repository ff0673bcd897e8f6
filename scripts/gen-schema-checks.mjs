// Generates src/manifest/schema-checks.generated.ts (the first-error validators, ajv standalone code) from
// schemas/*.schema.json. `node scripts/gen-schema-checks.mjs --check` exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const { schemaChecksCode, SCHEMA_CHECKS_FILE } = await tsImport(
  '../src/manifest/schema-code.ts',
  import.meta.url,
);
const file = new URL(`../${SCHEMA_CHECKS_FILE}`, import.meta.url);
const code = schemaChecksCode();
if (process.argv.includes('--check')) {
  if (readFileSync(file, 'utf8') !== code) {
    console.error(`${SCHEMA_CHECKS_FILE} is stale: run node scripts/gen-schema-checks.mjs`);
    process.exit(1);
  }
} else writeFileSync(file, code);
