import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

const run = (script: string) => execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });

/** Every manifest document in the examples. */
function exampleDocuments(): unknown[] {
  const out: unknown[] = [];
  for (const dir of ['examples/gpu-vms', 'examples/sync-alerts']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) out.push(d.toJS());
    }
  }
  return out;
}

describe('the JSON Schemas', () => {
  it('generate the TypeScript types in src/, which are up to date', () => {
    expect(() => run('scripts/gen-types.mjs')).not.toThrow();
  });

  it('bundle into schemas/taskops.schema.json for editors, which is up to date', () => {
    expect(() => run('scripts/bundle-schema.mjs')).not.toThrow();
  });

  it('the editor bundle accepts every example and refuses what the validator refuses', () => {
    const bundle = JSON.parse(readFileSync('schemas/taskops.schema.json', 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(bundle);
    const docs = exampleDocuments();
    expect(docs.length).toBe(10);
    for (const d of docs) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
    const tooShort = {
      apiVersion: 'taskops/v1',
      kind: 'Webhook',
      metadata: { name: 'w' },
      spec: { url: 'https://x.example', timeoutSeconds: 2 },
    };
    expect(validate(tooShort)).toBe(false);
    const bothForms = {
      apiVersion: 'taskops/v1',
      kind: 'Schedule',
      metadata: { name: 's' },
      spec: { cron: '0 * * * *', once: '2026-12-24T17:00:00' },
    };
    expect(validate(bothForms)).toBe(false);
  });

  it('give every property a description (editors show them)', () => {
    const missing: string[] = [];
    const visit = (node: unknown, where: string) => {
      if (!node || typeof node !== 'object') return;
      const props = (node as { properties?: Record<string, Record<string, unknown>> }).properties;
      for (const [name, schema] of Object.entries(props ?? {})) {
        if (!schema.description && !schema.$ref) missing.push(`${where}.${name}`);
        visit(schema, `${where}.${name}`);
      }
      for (const key of ['items', 'additionalProperties', 'definitions'] as const) {
        const child = (node as Record<string, unknown>)[key];
        if (key === 'definitions' && child)
          for (const [n, d] of Object.entries(child)) visit(d, `${where}#${n}`);
        else visit(child, `${where}.${key}`);
      }
    };
    for (const f of readdirSync('schemas').filter(
      (n) => n.endsWith('.schema.json') && n !== 'taskops.schema.json',
    )) {
      visit(JSON.parse(readFileSync(path.join('schemas', f), 'utf8')), f);
    }
    expect(missing).toEqual([]);
  });
});
