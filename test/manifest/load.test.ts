import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, LIMITS, loadManifests } from '../../src/manifest/index.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'taskops-load-'));
const TAG = 'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: gpu}\nspec: {category: vms}\n';

describe('loading manifests', () => {
  // Expanding this document would build 10^12 nodes: finishing at all shows it was refused unexpanded.
  it('refuses an alias bomb without expanding it', async () => {
    const dir = tmp();
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    writeFileSync(
      path.join(dir, 'bomb.yaml'),
      'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: lol}\nspec:\n  objectType: email\n  action: send\n  params:\n' +
        levels.map((l) => `    ${l}`).join('\n') +
        '\n',
    );
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toBe(
      'document uses more than 100 YAML aliases: refused as a resource-exhaustion risk',
    );
  });

  it('refuses a file over the size limit before reading it', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'big.yaml'), '#'.repeat(LIMITS.maxFileBytes + 1));
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems.map(formatProblem)).toEqual([
      `${path.join(dir, 'big.yaml')}:1:1: file is ${LIMITS.maxFileBytes + 1} bytes; manifests are limited to ${LIMITS.maxFileBytes} bytes per file (split it)`,
    ]);
  });

  it('reads *.yaml and *.yml recursively, skipping dot-folders, node_modules, symlinks and the engine config', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'nested/deeper'), { recursive: true });
    mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
    mkdirSync(path.join(dir, 'node_modules/x'), { recursive: true });
    writeFileSync(path.join(dir, 'nested/deeper/tag.yml'), TAG);
    writeFileSync(path.join(dir, '.github/workflows/ci.yaml'), 'on: push\n');
    writeFileSync(path.join(dir, 'node_modules/x/bad.yaml'), 'nope: [');
    writeFileSync(path.join(dir, 'taskops.config.yaml'), 'defaultTimezone: UTC\n');
    writeFileSync(path.join(dir, 'README.md'), '# not yaml');
    const outside = tmp();
    writeFileSync(path.join(outside, 'secret.yaml'), 'not: a manifest\n');
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(dir, 'link.yaml'));
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems).toEqual([]);
    expect(result.files).toBe(1);
    expect(result.state!.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Tag/gpu']);
  });

  it("skips a subfolder with its own engine config: another engine's repo, loadable on its own", async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'other/manifests'), { recursive: true });
    writeFileSync(path.join(dir, 'tag.yaml'), TAG);
    writeFileSync(path.join(dir, 'other/taskops.config.yaml'), 'defaultTimezone: UTC\n');
    writeFileSync(path.join(dir, 'other/manifests/tag.yaml'), TAG.replace('name: gpu', 'name: other'));
    const parent = await loadManifests([dir], { revision: 't' });
    expect(parent.state!.manifests.map((m) => m.metadata.name)).toEqual(['gpu']);
    const own = await loadManifests([path.join(dir, 'other')], { revision: 't' });
    expect(own.state!.manifests.map((m) => m.metadata.name)).toEqual(['other']);
  });

  it('applies schema defaults so the desired state is normalized', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'm.yaml'),
      'apiVersion: taskops/v1\nkind: Webhook\nmetadata: {name: w}\nspec: {url: "https://hooks.example.com/x"}\n',
    );
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.state!.manifests[0]!.spec).toEqual({
      url: 'https://hooks.example.com/x',
      auth: { type: 'none' },
      headers: { 'content-type': 'application/json' },
      allowInsecureCertificates: false,
      timeoutSeconds: 10,
      retries: 3,
    });
  });

  it('does not report references to a declared-but-invalid object as missing', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 's.yaml'),
      'apiVersion: taskops/v1\nkind: Schedule\nmetadata: {name: nightly}\nspec: {cron: "0 0 * * *", every: 2}\n',
    );
    writeFileSync(
      path.join(dir, 't.yaml'),
      'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: t}\nspec: {objectType: email, action: send, params: {to: a@b.c, subject: s, body: b}, schedules: [nightly]}\n',
    );
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems.map((p) => p.message)).toEqual([
      'unknown field spec.every (allowed: timezone, cron, repeat, once, startsAt, endsAt, enabled)',
    ]);
  });

  it('treats keys like token or value inside a webhook payload as data, not secrets', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'w.yaml'),
      [
        'apiVersion: taskops/v1\nkind: Webhook\nmetadata: {name: w}\nspec: {url: "https://hooks.example.com/x"}',
        'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: t}\nspec: {objectType: webhook, target: {name: w}, action: send, params: {payload: {key: k1, value: "${NAME}", token: abc}}}',
      ].join('\n---\n'),
    );
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems).toEqual([]);
  });

  it('finds unknown variables in a JSON payload even when written with JSON escapes', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'w.yaml'),
      [
        'apiVersion: taskops/v1\nkind: Webhook\nmetadata: {name: w}\nspec: {url: "https://hooks.example.com/x"}',
        'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  objectType: webhook\n  target: {name: w}\n  action: send\n  params:\n    payload: \'{"text": "\\u0024{HOST} is down"}\'',
      ].join('\n---\n'),
    );
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.problems.map((p) => p.message)).toEqual([
      'unknown variable ${HOST}; known: DATE, TIMESTAMP, RANDOM, NAME, TASK, EVENT_TYPE, EVENT, RUN_ID, FIELD_<key>',
    ]);
  });

  it('keeps going after a broken file and reports problems of every file at once', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'a.yaml'), 'kind: [');
    writeFileSync(path.join(dir, 'b.yaml'), TAG.replace('vms', 'VMS'));
    writeFileSync(path.join(dir, 'c.yaml'), TAG.replace('gpu', 'other'));
    const result = await loadManifests([dir], { revision: 't' });
    expect(result.state).toBeNull();
    expect(result.problems.map((p) => path.basename(p.location.file))).toEqual(['a.yaml', 'b.yaml']);
  });
});
