import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/index.js';
import { formatProblem } from '../../src/manifest/index.js';
import { reconcileOnce, type ReconcileOnceOptions } from '../../src/reconcile/index.js';
import { FolderSource, GitSource, type Source } from '../../src/source/index.js';
import { contentHash, openStore, type SqliteStore } from '../../src/store/index.js';
import { doc } from '../helpers/engine.js';
import { tempDir, tempRepo, type TempRepo } from '../helpers/git.js';

const tag = (name: string) => doc('Tag', name, { category: 'vms', members: ['vm-1'] });

let work: ReturnType<typeof tempDir>;
let dataDir: string;
let store: SqliteStore;
const clock = new ManualClock('2026-03-01T10:00:00Z');

beforeEach(async () => {
  work = tempDir('taskops-reconcile-once-');
  dataDir = path.join(work.dir, 'data');
  store = await openStore(dataDir);
});
afterEach(async () => {
  await store.close();
  work.cleanup();
});

/** A folder of manifests (name → YAML) below the temp dir. */
function folder(files: Record<string, string>, name = 'manifests'): string {
  const dir = path.join(work.dir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

const APPLY: ReconcileOnceOptions = { dataDir: '', mode: 'apply', record: true };
const once = (source: Source, opts: Partial<ReconcileOnceOptions> = {}) =>
  reconcileOnce(source, store, clock, { ...APPLY, dataDir, ...opts });

describe('reconcileOnce', () => {
  it('applied: writes the plan, records the attempt and the applied revision', async () => {
    const source = new FolderSource(folder({ 'a.yaml': tag('a'), 'b.yaml': tag('b') }));
    const outcome = await once(source);
    expect(outcome).toMatchObject({ reason: 'applied', ok: true, message: null, problems: [] });
    expect(outcome.summary).toEqual({ create: 2, update: 0, delete: 0 });
    expect(outcome.auditFile).toMatch(/audit-2026-03-01\.jsonl$/);
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['a', 'b']);
    expect(await store.getSyncStatus()).toEqual({
      lastAttempt: {
        at: '2026-03-01T10:00:00.000Z',
        revision: outcome.revision,
        reason: 'applied',
        message: null,
        problems: [],
        summary: { create: 2, update: 0, delete: 0 },
      },
      lastApplied: { revision: outcome.revision, at: '2026-03-01T10:00:00.000Z' },
    });
  });

  it('unchanged: the same revision again writes nothing', async () => {
    const source = new FolderSource(folder({ 'a.yaml': tag('a') }));
    await once(source);
    const generation = await store.generation();
    const outcome = await once(source);
    expect(outcome).toMatchObject({
      reason: 'unchanged',
      ok: true,
      summary: { create: 0, update: 0, delete: 0 },
    });
    expect(await store.generation()).toBe(generation);
  });

  it('pending: with mode plan, changes are reported and nothing is written', async () => {
    const source = new FolderSource(folder({ 'a.yaml': tag('a') }));
    const outcome = await once(source, { mode: 'plan' });
    expect(outcome).toMatchObject({
      reason: 'pending',
      ok: true,
      summary: { create: 1, update: 0, delete: 0 },
    });
    expect(outcome.plan!.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual(['create Tag/a']);
    expect(await store.listObjects()).toEqual([]);
    expect((await store.getSyncStatus())!.lastAttempt.reason).toBe('pending');
    expect((await store.getSyncStatus())!.lastApplied).toBeNull();
  });

  it('a dry run (record: false) leaves no sync status behind', async () => {
    await once(new FolderSource(folder({ 'a.yaml': tag('a') })), { mode: 'plan', record: false });
    expect(await store.getSyncStatus()).toBeNull();
  });

  it('invalid: problems carry file:line:col, nothing is applied, the last applied revision stays', async () => {
    const good = await once(new FolderSource(folder({ 'a.yaml': tag('a') })));
    const dir = folder({
      'a.yaml': tag('a'),
      'bad.yaml': 'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: bad}\nspec: {}\n',
    });
    const outcome = await once(new FolderSource(dir), { load: { displayRoot: 'manifests' } });
    expect(outcome).toMatchObject({ reason: 'invalid', ok: false, plan: null });
    expect(outcome.message).toBe(`1 invalid manifest at ${outcome.revision}; nothing applied`);
    expect(outcome.problems.map(formatProblem)).toEqual([
      'manifests/bad.yaml:4:7: Tag/bad: spec.category is required',
    ]);
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['a']);
    const status = await store.getSyncStatus();
    expect(status!.lastAttempt).toMatchObject({ reason: 'invalid', revision: outcome.revision });
    expect(status!.lastAttempt.problems[0]!.location).toEqual({
      file: 'manifests/bad.yaml',
      line: 4,
      col: 7,
    });
    expect(status!.lastApplied!.revision).toBe(good.revision);
  });

  it('source-failed: a missing folder or an unreachable repo, with no revision', async () => {
    const missing = await once(new FolderSource(path.join(work.dir, 'nowhere')));
    expect(missing).toMatchObject({ reason: 'source-failed', ok: false, revision: null, plan: null });
    expect(missing.message).toContain('does not exist or is not a directory: check PATH');
    const repo = new GitSource({ repo: path.join(work.dir, 'no-repo.git'), dataDir });
    const unreachable = await once(repo);
    expect(unreachable.reason).toBe('source-failed');
    expect(unreachable.message).toContain('could not fetch');
    expect((await store.getSyncStatus())!.lastAttempt).toMatchObject({
      reason: 'source-failed',
      revision: null,
    });
  });

  it('refused: a plan deleting every live object is not applied without allowDeleteAll', async () => {
    await once(new FolderSource(folder({ 'a.yaml': tag('a'), 'b.yaml': tag('b') })));
    const outcome = await once(new FolderSource(folder({}, 'empty')));
    expect(outcome).toMatchObject({
      reason: 'refused',
      ok: false,
      summary: { create: 0, update: 0, delete: 2 },
    });
    expect(outcome.message).toContain('would delete every live object taskops manages (2 of 2)');
    expect(await store.listObjects()).toHaveLength(2);
    const allowed = await once(new FolderSource(folder({}, 'empty')), { safety: { allowDeleteAll: true } });
    expect(allowed.reason).toBe('applied');
    expect(await store.listObjects()).toHaveLength(0);
  });

  it('stale-plan: a write between reading the live state and applying refuses the plan', async () => {
    const source = new FolderSource(folder({ 'a.yaml': tag('a') }));
    // Another writer changes the store right after reconcileOnce read its generation.
    const generation = store.generation.bind(store);
    let raced = false;
    store.generation = async () => {
      const g = await generation();
      if (!raced) {
        raced = true;
        const metadata = { name: 'by-hand', labels: {} };
        const spec = { category: 'vms' };
        await store.putObjectByHand(
          { kind: 'Tag', name: 'by-hand', metadata, spec, hash: contentHash(metadata, spec) },
          clock.now(),
        );
      }
      return g;
    };
    const outcome = await once(source);
    expect(outcome).toMatchObject({ reason: 'stale-plan', ok: false });
    expect(outcome.message).toContain('changed while the plan was being made');
    expect((await store.listObjects()).map((o) => o.name)).toEqual(['by-hand']);
  });
});

describe('reconcileOnce on a git repository', () => {
  let repo: TempRepo;
  beforeEach(async () => (repo = await tempRepo()));
  afterEach(() => repo.cleanup());

  it('records the commit SHA as the attempted and applied revision, and names files by the repo subfolder', async () => {
    const sha = await repo.commit('tags', { 'm/a.yaml': tag('a') });
    const source = new GitSource({ repo: repo.dir, ref: 'main', path: 'm', dataDir });
    const applied = await once(source, { load: { displayRoot: 'm' } });
    expect(applied).toMatchObject({ reason: 'applied', revision: sha });
    const broken = await repo.commit('broken', {
      'm/b.yaml': 'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: b}\nspec: {}\n',
    });
    const refused = await once(source, { load: { displayRoot: 'm' } });
    expect(refused).toMatchObject({ reason: 'invalid', revision: broken });
    expect(refused.problems.map(formatProblem)).toEqual(['m/b.yaml:4:7: Tag/b: spec.category is required']);
    expect(await store.getSyncStatus()).toMatchObject({
      lastAttempt: { revision: broken, reason: 'invalid' },
      lastApplied: { revision: sha },
    });
  });
});
