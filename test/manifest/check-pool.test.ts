import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFile } from '../../src/manifest/check-file.js';
import { CheckPool, PARALLEL_FROM_BYTES, poolSizeFor } from '../../src/manifest/check-pool.js';
import { loadManifests, type LoadOptions } from '../../src/manifest/index.js';
import { storedHashOf } from '../../src/manifest/stored-form.js';
import { contentHash } from '../../src/store/hash.js';

const dirs: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-check-pool-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const schedule = (name: string, spec: string) =>
  `apiVersion: taskops/v1\nkind: Schedule\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const task = (name: string, schedules: string[]) =>
  `apiVersion: taskops/v1\nkind: Task\nmetadata:\n  name: ${name}\nspec:\n  objectType: email\n  action: send\n` +
  `  target: {name: ops}\n  schedules: [${schedules.join(', ')}]\n`;

/**
 * Several files with errors of every layer in several of them: YAML syntax, schema, semantics, a duplicate
 * across files, a missing reference (located by a re-parse on the gathering thread), an oversized file.
 */
function repoWithErrors(): string {
  const dir = tmp();
  mkdirSync(path.join(dir, 'a'));
  mkdirSync(path.join(dir, 'b'));
  const daily = (i: number) => `  repeat: {unit: days, every: ${1 + (i % 3)}, at: "0${i % 10}:15"}\n`;
  const docs = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => schedule(`s-${from + k}`, daily(from + k)));
  writeFileSync(path.join(dir, 'a/1.yaml'), docs(0, 30).join('---\n'));
  writeFileSync(
    path.join(dir, 'a/2.yaml'),
    [...docs(30, 40), schedule('bad-cron', '  cron: "61 * * * *"\n'), schedule('s-3', daily(3))].join(
      '---\n',
    ),
  );
  writeFileSync(path.join(dir, 'a/3.yaml'), `${docs(40, 45).join('---\n')}---\nkind: [unclosed\n`);
  writeFileSync(
    path.join(dir, 'b/1.yaml'),
    [task('t-1', ['s-1', 's-2', 'missing-one']), schedule('wrong', '  repeat: {unit: years}\n')].join(
      '---\n',
    ),
  );
  writeFileSync(
    path.join(dir, 'b/2.yaml'),
    [task('t-2', ['s-40']), schedule('zone', '  timezone: Mars/Olympus\n  cron: "0 3 * * *"\n')].join(
      '---\n',
    ),
  );
  writeFileSync(path.join(dir, 'b/3.yaml'), '# only comments\n');
  writeFileSync(path.join(dir, 'b/4.yaml'), '#'.repeat(1024 * 1024 + 1));
  return dir;
}

/** The loader's whole answer, and the texts it said it read, with the files checked on `threads` threads. */
async function load(roots: string[], threads: number, extra: Partial<LoadOptions> = {}) {
  const read: Array<[string, string]> = [];
  const result = await loadManifests(roots, {
    revision: 'r1',
    checkThreads: threads,
    onFileRead: (file, text) => read.push([file, text]),
    ...extra,
  });
  return { result, read };
}

describe('checking files in worker threads', () => {
  it('gives the same problems, in the same order, as checking them on one thread', async () => {
    const dir = repoWithErrors();
    const inline = await load([dir], 0);
    const threaded = await load([dir], 2);
    expect(inline.result.problems.length).toBeGreaterThan(5);
    // Every layer is represented, and problems in at least four files.
    expect(new Set(inline.result.problems.map((p) => p.layer))).toEqual(
      new Set(['yaml', 'schema', 'semantic', 'reference', 'limit']),
    );
    expect(new Set(inline.result.problems.map((p) => p.location.file)).size).toBeGreaterThanOrEqual(5);
    expect(threaded).toStrictEqual(inline);
  });

  it('gives the same problems for the invalid-manifest corpus (aliases, depth, tabs, duplicate keys…)', async () => {
    const corpus = path.resolve('test/fixtures/invalid');
    const inline = await load([corpus], 0);
    const threaded = await load([corpus], 3);
    expect(inline.result.problems.length).toBeGreaterThan(30);
    expect(threaded).toStrictEqual(inline);
  });

  it('gives the same state, warnings and notes for a valid set, as the engine sees it', async () => {
    const dir = tmp();
    cpSync(path.resolve('examples'), path.join(dir, 'examples'), { recursive: true });
    const opts = { now: new Date('2026-06-01T00:00:00Z'), defaultZone: 'Europe/Berlin' };
    const root = [path.join(dir, 'examples')];
    const inline = await load(root, 0, opts);
    const threaded = await load(root, 2, opts);
    expect(inline.result.state).not.toBeNull();
    expect(inline.result.state!.manifests.length).toBeGreaterThanOrEqual(10);
    expect(threaded).toStrictEqual(inline);
  });

  it('keeps values that a structured clone could change: a "__proto__" key, numbers, nulls, nested lists', async () => {
    const dir = tmp();
    const payload =
      'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: p}\nspec:\n  objectType: email\n  action: send\n' +
      '  target: {name: ops}\n  params:\n    __proto__: {polluted: true}\n    n: -0.5\n    z: null\n' +
      '    list: [[1, 2], {a: ~}]\n';
    writeFileSync(path.join(dir, 'p.yaml'), payload);
    writeFileSync(path.join(dir, 'q.yaml'), payload.replace('name: p', 'name: q'));
    const inline = await load([dir], 0);
    const threaded = await load([dir], 2);
    expect(threaded).toStrictEqual(inline);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('hands each manifest on with the content hash the store computes of it, made in the thread', async () => {
    const dir = tmp();
    cpSync(path.resolve('examples'), path.join(dir, 'examples'), { recursive: true });
    const { result } = await load([path.join(dir, 'examples')], 2);
    const hashes = result.state!.manifests.map((m) => [storedHashOf(m), contentHash(m.metadata, m.spec)]);
    expect(hashes.length).toBe(result.state!.manifests.length);
    for (const [given, computed] of hashes) expect(given).toBe(computed);
  });

  it('a thread answers exactly what the file check answers on this thread', async () => {
    const dir = repoWithErrors();
    const pool = await CheckPool.open(2);
    try {
      for (const file of ['a/1.yaml', 'a/2.yaml', 'a/3.yaml', 'b/1.yaml']) {
        const full = path.join(dir, file);
        const text = readFileSync(full, 'utf8');
        // With a time, so the schedules' own warnings are checked in the thread too.
        const opts = { defaultZone: 'UTC', now: Date.parse('2030-01-01T00:00:00Z') };
        expect(await pool.check(full, text, opts)).toStrictEqual(checkFile(full, text, opts));
      }
    } finally {
      await pool.close();
    }
    await expect(pool.check('x.yaml', 'a: 1\n', { defaultZone: undefined })).rejects.toThrow(
      /no manifest check thread/,
    );
  });
});

const UTC = { defaultZone: 'UTC' };

describe('a check pool starting', () => {
  it('says once when every thread has answered (a worker that runs has reset V8 flags by then)', async () => {
    const dir = repoWithErrors();
    let started = 0;
    const pool = await CheckPool.open(2, () => started++);
    try {
      const files = ['a/1.yaml', 'a/2.yaml', 'b/1.yaml'].map((f) => path.join(dir, f));
      const first = pool.check(files[0]!, readFileSync(files[0]!, 'utf8'), UTC);
      await first;
      // One thread answered: the other has not been asked yet.
      expect(started).toBe(0);
      await Promise.all(files.slice(1).map((f) => pool.check(f, readFileSync(f, 'utf8'), UTC)));
      expect(started).toBe(1);
      await pool.check(files[0]!, readFileSync(files[0]!, 'utf8'), UTC);
      expect(started).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe('when the loader uses threads', () => {
  it('checks a small set on its own thread: a worker would cost more than it saves', () => {
    expect(poolSizeFor(200_000, 40)).toBe(0);
    expect(poolSizeFor(PARALLEL_FROM_BYTES - 1, 110)).toBe(0);
  });

  it('uses one thread per core for a large set, never more than files', () => {
    const cores = availableParallelism();
    expect(poolSizeFor(PARALLEL_FROM_BYTES, 110)).toBe(cores > 1 ? cores : 0);
    expect(poolSizeFor(50 * PARALLEL_FROM_BYTES, 1)).toBe(cores > 1 ? 1 : 0);
  });

  it('follows an explicit choice, 0 meaning none', () => {
    expect(poolSizeFor(50 * PARALLEL_FROM_BYTES, 110, 0)).toBe(0);
    expect(poolSizeFor(10, 3, 8)).toBe(3);
  });
});
