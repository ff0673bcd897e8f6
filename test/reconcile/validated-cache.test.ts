import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { driverCatalog, loadEngineConfig, type ResolvedConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/engine/index.js';
import { secretPolicy } from '../../src/manifest/index.js';
import {
  loadDesired,
  reconcileOnce,
  ValidatedRevisionCache,
  type LoadDesiredOptions,
  type ValidatedCacheEvent,
} from '../../src/reconcile/index.js';
import { textDigest } from '../../src/reconcile/validated-cache.js';
import { FolderSource } from '../../src/source/index.js';
import { contentHash, openStore, type SqliteStore } from '../../src/store/index.js';
import { doc } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';

let work: ReturnType<typeof tempDir>;
let root: string;
let dataDir: string;
let configFile: string;
let events: ValidatedCacheEvent[];
const NOW = new Date('2026-03-01T10:00:00Z');

beforeEach(() => {
  work = tempDir('taskops-validated-cache-');
  // The bundled examples: every kind, secret references, a command driver, warnings-free.
  cpSync('examples', path.join(work.dir, 'examples'), { recursive: true });
  root = path.join(work.dir, 'examples');
  configFile = path.join(root, 'taskops.config.yaml');
  dataDir = path.join(work.dir, 'data');
  events = [];
});
afterEach(() => work.cleanup());

const config = (): ResolvedConfig => loadEngineConfig(configFile, {});
const cacheFor = (resolved = config()) =>
  new ValidatedRevisionCache({
    dataDir,
    config: { settings: resolved.config, file: resolved.file },
    onEvent: (e) => events.push(e),
  });

/** The load options serve passes, from the engine config; with a cache when one is given. */
function loadOpts(cache?: ValidatedRevisionCache, now = NOW, resolved = config()): LoadDesiredOptions {
  return {
    revision: 'r1',
    driverCatalog: driverCatalog(resolved.config),
    secretPolicy: secretPolicy(resolved.config.secrets),
    defaultZone: resolved.config.defaultTimezone,
    now,
    displayRoot: 'examples',
    ...(cache ? { cache } : {}),
  };
}

const results = () => events.map((e) => e.result);
const cacheFile = () => path.join(dataDir, 'cache', 'validated-revision.json');
const write = (rel: string, text: string) => writeFileSync(path.join(root, rel), text);

/** Loads once to fill the cache, then forgets what that load reported. */
async function warm(): Promise<void> {
  await loadDesired(root, loadOpts(cacheFor()));
  expect(results()).toEqual(['miss']);
  events = [];
}

describe('the validated revision cache', () => {
  it('a load on unchanged files is a hit that returns what a full validation returns', async () => {
    const full = await loadDesired(root, loadOpts());
    await warm();
    const cached = await loadDesired(root, { ...loadOpts(cacheFor()), revision: 'r2' });
    expect(results()).toEqual(['hit']);
    expect(cached).toStrictEqual({ ...full, revision: 'r2' });
    expect(cached.manifests.length).toBeGreaterThan(5);
  });

  it('a first load (no cache file yet) is a miss that digests no file for a key nothing can match', async () => {
    const cache = cacheFor();
    const digests = vi.spyOn(cache, 'digestFiles');
    const state = await loadDesired(root, loadOpts(cache));
    expect(events[0]).toMatchObject({ result: 'miss', reason: 'no cache file yet' });
    expect(digests).not.toHaveBeenCalled();
    await cache.flush();
    // What it kept is found by the next load's digests.
    const next = cacheFor();
    expect(await loadDesired(root, loadOpts(next))).toStrictEqual(state);
    expect(results().at(-1)).toBe('hit');
  });

  it('a background write lands after write() returns, byte for byte as a synchronous one, in the order written', async () => {
    await warm();
    const synchronous = readFileSync(cacheFile(), 'utf8');
    const synchronousIndex = readFileSync(`${cacheFile()}.index`, 'utf8');
    rmSync(path.join(dataDir, 'cache'), { recursive: true });
    const background = new ValidatedRevisionCache({
      dataDir,
      config: { settings: config().config, file: config().file },
      onEvent: (e) => events.push(e),
      background: true,
    });
    const state = await loadDesired(root, loadOpts(background));
    // Nothing is written before this turn of the event loop ends.
    expect(() => readFileSync(cacheFile())).toThrow(/ENOENT/);
    await background.flush();
    expect(readFileSync(cacheFile(), 'utf8')).toBe(synchronous);
    expect(readFileSync(`${cacheFile()}.index`, 'utf8')).toBe(synchronousIndex);
    events = [];
    expect(await loadDesired(root, { ...loadOpts(cacheFor()), revision: 'r1' })).toStrictEqual(state);
    expect(results()).toEqual(['hit']);

    // Two writes queued at once: the second one's key is what stays.
    write('extra.yaml', doc('Tag', 'late-tag', { selector: { names: ['vm-1'] } }));
    const key = background.key(root, await background.digestFiles(root), loadOpts());
    background.write('not-the-last', state, loadOpts());
    background.write(key, state, loadOpts());
    await background.flush();
    expect(JSON.parse(readFileSync(cacheFile(), 'utf8').split('\n')[0]!).key).toBe(key);
  });

  it('a write removes the temporary copies a stopped process left, and nothing else in the cache folder', async () => {
    mkdirSync(path.join(dataDir, 'cache'), { recursive: true });
    const stale = [`${cacheFile()}.99999999.tmp`, `${cacheFile()}.index.99999999.tmp`];
    for (const f of stale) writeFileSync(f, 'half a file');
    const kept = path.join(dataDir, 'cache', 'notes.txt');
    writeFileSync(kept, 'an operator file');
    await warm();
    for (const f of stale) expect(existsSync(f), f).toBe(false);
    expect(readFileSync(kept, 'utf8')).toBe('an operator file');
    expect(existsSync(cacheFile())).toBe(true);
  });

  it('a background write that cannot write its file says so, writes no index and leaves the next write working', async () => {
    const background = new ValidatedRevisionCache({
      dataDir,
      config: { settings: config().config, file: config().file },
      onEvent: (e) => events.push(e),
      background: true,
    });
    const state = await loadDesired(root, loadOpts());
    // A folder where the file's temporary copy goes: its write fails.
    const tmp = `${cacheFile()}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    background.write('k1', state, loadOpts());
    await background.flush();
    expect(events.map((e) => e.result)).toEqual(['not-written']);
    expect(existsSync(`${cacheFile()}.index`)).toBe(false);
    rmSync(tmp, { recursive: true });
    background.write('k2', state, loadOpts());
    await background.flush();
    expect(JSON.parse(readFileSync(cacheFile(), 'utf8').split('\n')[0]!).key).toBe('k2');
  });

  it('a plan made from a hit equals the plan from a full validation, firings, warnings and sources included', async () => {
    const store: SqliteStore = await openStore(dataDir);
    try {
      const clock = new ManualClock(NOW);
      const source = new FolderSource(root);
      const plan = (cache?: ValidatedRevisionCache) =>
        reconcileOnce(source, store, clock, {
          dataDir,
          mode: 'plan',
          record: false,
          load: loadOpts(cache),
        });
      const full = await plan();
      await plan(cacheFor());
      events = [];
      const hit = await plan(cacheFor());
      expect(results()).toEqual(['hit']);
      expect(hit).toStrictEqual(full);
      expect(hit.plan!.changes.some((c) => c.firings && c.firings.after.length > 0)).toBe(true);
      expect([...hit.sources!.values()].every((s) => s.file.startsWith('examples/'))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('the index beside a kept state holds each object, its content hash and place, and the warnings', async () => {
    const full = await loadDesired(root, loadOpts());
    await warm();
    const cache = cacheFor();
    const key = cache.key(root, await cache.digestFiles(root), loadOpts());
    const index = cache.readIndex(key, root, 'r2', NOW)!;
    expect(results()).toEqual(['hit']);
    const objects: unknown[] = [];
    index.forEach((kind, name, hash, source) => objects.push({ kind, name, hash, source }));
    expect({ revision: index.revision, size: index.size, objects, warnings: index.warnings }).toStrictEqual({
      revision: 'r2',
      size: full.manifests.length,
      objects: full.manifests.map((m) => ({
        kind: m.kind,
        name: m.metadata.name,
        hash: contentHash(m.metadata, m.spec),
        source: m.source,
      })),
      warnings: full.warnings ?? [],
    });
    events = [];
    expect(cache.readIndex('another key', root, 'r2', NOW)).toBeNull();
    expect(events).toEqual([{ result: 'miss', reason: 'the manifests or the engine config changed' }]);
  });

  it('an index edited or forged with a matching digest is ignored', async () => {
    await warm();
    const cache = cacheFor();
    const key = cache.key(root, await cache.digestFiles(root), loadOpts());
    const text = readFileSync(cache.indexFile, 'utf8');
    const newline = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
    const body = JSON.parse(text.slice(newline + 1)) as { files: string[]; entries: unknown[][] };
    const forgedHash = text.slice(newline).replace(/"[0-9a-f]{64}"/, `"${'0'.repeat(64)}"`);
    writeFileSync(cache.indexFile, text.slice(0, newline) + forgedHash);
    events = [];
    expect(cache.readIndex(key, root, 'r1', NOW)).toBeNull();
    expect(events).toMatchObject([{ result: 'ignored', reason: /does not match its digest/ }]);
    for (const change of [
      (b: typeof body) => (b.entries[0]![0] = 99),
      (b: typeof body) => b.entries.push(b.entries[0]!),
      (b: typeof body) => (b.files[0] = '/etc/passwd'),
      (b: typeof body) => (b.entries[0]![2] = 'not a hash'),
      (b: typeof body) => (b.entries[0]![3] = b.files.length),
      (b: typeof body) => b.entries[0]!.pop(),
    ]) {
      const copy = structuredClone(body);
      change(copy);
      const json = JSON.stringify(copy);
      writeFileSync(cache.indexFile, `${JSON.stringify({ ...header, body: textDigest(json) })}\n${json}`);
      events = [];
      expect(cache.readIndex(key, root, 'r1', NOW)).toBeNull();
      expect(results()).toEqual(['ignored']);
    }
  });

  it("serve's sync on an unchanged revision plans from the index alone, as it would from the full state", async () => {
    const store: SqliteStore = await openStore(dataDir);
    try {
      const clock = new ManualClock(NOW);
      const source = new FolderSource(root);
      const sync = (cache?: ValidatedRevisionCache, mode: 'apply' | 'plan' = 'plan') =>
        reconcileOnce(source, store, clock, {
          dataDir,
          mode,
          record: false,
          detail: false,
          load: loadOpts(cache),
        });
      expect((await sync(cacheFor(), 'apply')).reason).toBe('applied');
      const full = await sync();
      const reads = vi.spyOn(store, 'listObjects');
      const getObject = vi.spyOn(store, 'getObject');
      events = [];
      const indexed = await sync(cacheFor());
      expect(results()).toEqual(['hit']);
      expect(indexed).toStrictEqual(full);
      expect(indexed.reason).toBe('unchanged');
      expect((await sync(cacheFor(), 'apply')).reason).toBe('unchanged');
      expect(reads).not.toHaveBeenCalled();
      expect(getObject).not.toHaveBeenCalled();
      // A hand edit is a change: the full state is read from the cache, and the plan is as without a cache.
      const tag = (await store.listObjects('Tag'))[0]!;
      await store.putObjectByHand(
        { ...tag, spec: { ...tag.spec, members: ['by-hand'] }, hash: 'f'.repeat(64) },
        NOW,
      );
      const fullPlan = await sync();
      events = [];
      const fallback = await sync(cacheFor());
      expect(results()).toEqual(['hit', 'hit']);
      expect(fallback).toStrictEqual(fullPlan);
      expect(fallback.plan!.changes).toMatchObject([
        { action: 'update', kind: 'Tag', name: tag.name, drift: true },
      ]);
    } finally {
      await store.close();
    }
  });

  it.each([
    [
      'a changed file',
      () =>
        write('gpu-vms/tag.yaml', readFileSync(path.join(root, 'gpu-vms/tag.yaml'), 'utf8') + '\n# edited\n'),
    ],
    [
      'an added file',
      () => write('gpu-vms/more.yaml', doc('Tag', 'more', { category: 'vms', members: ['x'] })),
    ],
    ['a deleted file', () => rmSync(path.join(root, 'gpu-vms/triggers.yaml'))],
    [
      'a renamed file',
      () =>
        cpSync(path.join(root, 'gpu-vms/tag.yaml'), path.join(root, 'gpu-vms/tag2.yaml')) ??
        rmSync(path.join(root, 'gpu-vms/tag.yaml')),
    ],
  ])('%s is a miss, and the new set is validated in full', async (_what, change) => {
    await warm();
    change();
    const full = await loadDesired(root, loadOpts());
    const loaded = await loadDesired(root, loadOpts(cacheFor()));
    expect(events).toEqual([{ result: 'miss', reason: 'the manifests or the engine config changed' }]);
    expect(loaded).toStrictEqual(full);
  });

  it('a file changed into an invalid one is a miss that reports its problems, and is never cached', async () => {
    await warm();
    write('gpu-vms/tag.yaml', doc('Tag', 'broken', { category: 'vms', members: 'not a list' }));
    await expect(loadDesired(root, loadOpts(cacheFor()))).rejects.toThrow(/members/);
    expect(results()).toEqual(['miss']);
    events = [];
    await expect(loadDesired(root, loadOpts(cacheFor()))).rejects.toThrow(/members/);
    expect(results()).toEqual(['miss']);
  });

  it('a changed engine config is a miss: its settings, and its file bytes', async () => {
    await warm();
    const text = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, text.replace('SLACK_BOT_TOKEN]', 'SLACK_BOT_TOKEN, OTHER]'));
    await loadDesired(root, loadOpts(cacheFor()));
    expect(results()).toEqual(['miss']);
    events = [];
    // Same settings, other bytes (a comment): still a miss, the key covers the file as written.
    writeFileSync(configFile, readFileSync(configFile, 'utf8') + '\n# a comment\n');
    await loadDesired(root, loadOpts(cacheFor()));
    expect(results()).toEqual(['miss']);
  });

  it('another default zone, catalog or secrets allowlist given with the load is a miss', async () => {
    await warm();
    await loadDesired(root, { ...loadOpts(cacheFor()), defaultZone: 'Europe/Berlin' });
    await loadDesired(root, {
      ...loadOpts(cacheFor()),
      driverCatalog: { vms: ['power-on', 'power-off', 'reboot'] },
    });
    const { secretPolicy: _omitted, ...withoutPolicy } = loadOpts(cacheFor());
    await expect(loadDesired(root, withoutPolicy)).resolves.toBeDefined();
    expect(results()).toEqual(['miss', 'miss', 'miss']);
  });

  it('a file written by another taskops version is a miss', async () => {
    await warm();
    const text = readFileSync(cacheFile(), 'utf8');
    const newline = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
    writeFileSync(cacheFile(), `${JSON.stringify({ ...header, taskops: '0.0.1' })}${text.slice(newline)}`);
    await loadDesired(root, loadOpts(cacheFor()));
    expect(events[0]).toEqual({ result: 'miss', reason: 'the cache was written by another version (0.0.1)' });
  });

  it('a corrupt file is ignored with a warning, validated in full and replaced', async () => {
    await warm();
    writeFileSync(cacheFile(), '{"format":1,"taskops"\n[garbage');
    const full = await loadDesired(root, loadOpts());
    expect(await loadDesired(root, loadOpts(cacheFor()))).toStrictEqual(full);
    expect(events).toMatchObject([{ result: 'ignored', file: cacheFile() }]);
    events = [];
    expect(await loadDesired(root, loadOpts(cacheFor()))).toStrictEqual(full);
    expect(results()).toEqual(['hit']);
  });

  it('a body edited after it was written does not match its digest and is ignored', async () => {
    await warm();
    const text = readFileSync(cacheFile(), 'utf8');
    writeFileSync(cacheFile(), text.replace('"power-on"', '"power-off"'));
    await loadDesired(root, loadOpts(cacheFor()));
    expect(events).toMatchObject([{ result: 'ignored', reason: /does not match its digest/ }]);
  });

  it('a body rewritten with a matching digest is still checked for the shape of a desired state', async () => {
    await warm();
    const text = readFileSync(cacheFile(), 'utf8');
    const newline = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
    const body = JSON.parse(text.slice(newline + 1)) as { manifests: Array<Record<string, unknown>> };
    const forge = (change: (b: typeof body) => void) => {
      const copy = structuredClone(body);
      change(copy);
      const json = JSON.stringify(copy);
      writeFileSync(cacheFile(), `${JSON.stringify({ ...header, body: textDigest(json) })}\n${json}`);
    };
    const full = await loadDesired(root, loadOpts());
    for (const change of [
      (b: typeof body) => (b.manifests[0]!.kind = 'Pod'),
      (b: typeof body) => b.manifests.push(b.manifests[0]!),
      (b: typeof body) => ((b.manifests[0]!.source as { file: string }).file = '/etc/passwd'),
      (b: typeof body) => delete b.manifests[0]!.spec,
      (b: typeof body) => (b as unknown as { hashes: string[] }).hashes.pop(),
    ]) {
      forge(change);
      events = [];
      expect(await loadDesired(root, loadOpts(cacheFor()))).toStrictEqual(full);
      expect(results()).toEqual(['ignored']);
    }
  });

  it('a schedule `once` still ahead is kept until it passes; then the full validation warns about it', async () => {
    write('gpu-vms/once.yaml', doc('Schedule', 'one-off', { once: '2026-03-02T09:00', timezone: 'UTC' }));
    const before = await loadDesired(root, loadOpts(cacheFor()));
    expect(before.warnings!.some((w) => w.includes('is in the past'))).toBe(false);
    await loadDesired(root, loadOpts(cacheFor(), new Date('2026-03-02T08:59:59Z')));
    expect(results()).toEqual(['miss', 'hit']);
    events = [];
    const later = new Date('2026-03-02T09:00:00Z');
    const after = await loadDesired(root, loadOpts(cacheFor(), later));
    expect(events[0]).toMatchObject({ result: 'miss', reason: /has passed since validation/ });
    expect(after).toStrictEqual(await loadDesired(root, loadOpts(undefined, later)));
    expect(after.warnings!.some((w) => w.includes('once 2026-03-02T09:00 is in the past'))).toBe(true);
    // Its warning names the validation time, so such a set is not kept.
    expect(events.slice(1)).toMatchObject([{ result: 'not-written', reason: /in the past/ }]);
  });

  it('a set holding a value JSON would change (.inf, -0, undefined) is not kept', async () => {
    const cache = cacheFor();
    const state = await loadDesired(root, loadOpts());
    const files = await cache.digestFiles(root);
    for (const odd of [Infinity, -0, undefined, new Date(0)]) {
      const changed = structuredClone(state);
      (changed.manifests[0]!.spec as Record<string, unknown>).odd = odd;
      events = [];
      cache.write(cache.key(root, files, loadOpts()), changed, loadOpts());
      expect(events).toEqual([
        { result: 'not-written', reason: 'the manifests hold a value JSON would change' },
      ]);
    }
    cache.write(cache.key(root, files, loadOpts()), state, loadOpts());
    expect(await loadDesired(root, loadOpts(cacheFor()))).toStrictEqual(state);
  });
});
