// Builds schemas/taskops.schema.json: every kind in one self-contained file (no remote $refs), for editors
// (`# yaml-language-server: $schema=...`). `--check` exits 1 when the committed bundle is stale.
import { readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../schemas/', import.meta.url);
const read = (f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
const kinds = {
  Task: 'task',
  Schedule: 'schedule',
  EventTrigger: 'eventtrigger',
  Webhook: 'webhook',
  Tag: 'tag',
};

function rewrite(node) {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$id' || k === '$schema' || k === 'tsType') continue;
    if (k === '$ref' && typeof v === 'string') {
      const common = /^(?:common\.schema\.json)?#\/definitions\/(\w+)$/.exec(v);
      const kind = Object.entries(kinds).find(([, file]) => v === `${file}.schema.json`);
      out[k] = common ? `#/definitions/${common[1]}` : kind ? `#/definitions/${kind[0]}` : v;
    } else out[k] = rewrite(v);
  }
  return out;
}

const manifest = read('manifest.schema.json');
const bundle = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://taskops.dev/schemas/v1/taskops.schema.json',
  ...rewrite(manifest),
  title: 'taskops manifest (bundled)',
  definitions: {
    ...rewrite(read('common.schema.json').definitions),
    ...Object.fromEntries(
      Object.entries(kinds).map(([kind, file]) => [kind, rewrite(read(`${file}.schema.json`))]),
    ),
  },
};
const text = JSON.stringify(bundle, null, 2) + '\n';
const out = new URL('taskops.schema.json', dir);
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error('schemas/taskops.schema.json is stale: run `npm run gen:types`.');
    process.exit(1);
  }
} else writeFileSync(out, text);
