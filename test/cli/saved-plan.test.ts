import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SavedPlan } from '../../src/reconcile/index.js';
import { openStore } from '../../src/store/index.js';
import { tempDir, tempRepo, yamlTask, YAML_WEBHOOK, type TempRepo } from '../helpers/git.js';
import { runCli } from '../helpers/cli.js';

describe('saved plans: reconcile --dry-run --out FILE, then reconcile --plan FILE', () => {
  let repo: TempRepo;
  let data: ReturnType<typeof tempDir>;
  let dataDir: string;
  let planFile: string;
  const reconcile = (...args: string[]) =>
    runCli(['--data-dir', dataDir, 'reconcile', ...args], { cwd: repo.dir });

  beforeEach(async () => {
    repo = await tempRepo();
    data = tempDir('taskops-data-');
    dataDir = join(data.dir, 'state');
    planFile = join(data.dir, 'plan.json');
    repo.write({ 'manifests/webhook.yaml': YAML_WEBHOOK, 'manifests/t0.yaml': yamlTask('t0') });
    expect((await reconcile('manifests')).code).toBe(0);
  });
  afterEach(() => {
    repo.cleanup();
    data.cleanup();
  });

  const live = async () => {
    const store = await openStore(dataDir);
    try {
      return (await store.listObjects()).map((o) => ({
        kind: o.kind,
        name: o.name,
        spec: o.spec,
        hash: o.hash,
      }));
    } finally {
      await store.close();
    }
  };
  const saved = (): SavedPlan => JSON.parse(readFileSync(planFile, 'utf8')) as SavedPlan;

  it('saves the revision, the live generation and a hash, and applies exactly that plan', async () => {
    repo.write({
      'manifests/t0.yaml': yamlTask('t0', { timeoutSeconds: '60' }),
      'manifests/t1.yaml': yamlTask('t1'),
    });
    const dry = await reconcile('manifests', '--dry-run', '--out', planFile);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`plan saved to ${planFile}`);
    const file = saved();
    expect(file.revision).toMatch(/^path:.*manifests@/);
    expect(file.generation).toBe(1);
    expect(file.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(file.plan.summary).toEqual({ create: 1, update: 1, delete: 0 });
    const before = await live();

    const applied = await reconcile('--plan', planFile);
    expect(applied.code).toBe(0);
    expect(applied.stdout.trimEnd().split('\n').pop()).toBe('Applied: 1 created, 1 updated, 0 deleted.');
    // The store afterwards is the live state before, with exactly the plan's writes.
    const expected = new Map(before.map((o) => [`${o.kind}/${o.name}`, o]));
    for (const c of file.plan.changes) {
      expected.set(`${c.kind}/${c.name}`, {
        kind: c.kind,
        name: c.name,
        spec: c.after!.spec as never,
        hash: c.hash!,
      });
    }
    const byKey = (a: { kind: string; name: string }, b: { kind: string; name: string }) =>
      `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`);
    expect((await live()).sort(byKey)).toEqual([...expected.values()].sort(byKey));
    expect((await live()).find((o) => o.name === 't0')!.spec).toMatchObject({ timeoutSeconds: 60 });
  });

  it('refuses a stale plan after a concurrent reconcile changed the live state', async () => {
    repo.write({ 'manifests/t1.yaml': yamlTask('t1') });
    expect((await reconcile('manifests', '--dry-run', '--out', planFile)).code).toBe(0);
    repo.write({ 'manifests/t2.yaml': yamlTask('t2') });
    expect((await reconcile('manifests')).code).toBe(0);
    // The manifests now match again what the plan was made from: only the live state moved.
    repo.write({ 'manifests/t2.yaml': null });
    const liveBefore = await live();
    const r = await reconcile('--plan', planFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'stale plan: the live state changed since the plan was made (generation 1, now 2',
    );
    expect(await live()).toEqual(liveBefore);
  });

  it('refuses a stale plan after a new commit of the manifests (git source)', async () => {
    await repo.commit('first');
    const plain = await reconcile('--repo', repo.dir, '--path', 'manifests', '--dry-run', '--out', planFile);
    expect(plain.code).toBe(0);
    expect(saved().source).toEqual({ repo: repo.dir, subdir: 'manifests' });
    repo.write({ 'manifests/t1.yaml': yamlTask('t1') });
    await repo.commit('second');
    const liveBefore = await live();
    const r = await reconcile('--plan', planFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stale plan: the manifests changed since the plan was made');
    expect(await live()).toEqual(liveBefore);
  });

  it('refuses a plan file edited after it was saved', async () => {
    repo.write({ 'manifests/t1.yaml': yamlTask('t1') });
    await reconcile('manifests', '--dry-run', '--out', planFile);
    const file = saved();
    file.plan.changes[0]!.after!.spec = { objectType: 'command', action: 'run' };
    writeFileSync(planFile, JSON.stringify(file));
    const r = await reconcile('--plan', planFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('was changed after it was saved (its hash does not match its content)');
  });

  it('takes --out only with --dry-run, and --plan never with it', async () => {
    expect((await reconcile('manifests', '--out', planFile)).code).toBe(64);
    expect((await reconcile('--dry-run', '--plan', planFile)).code).toBe(64);
  });
});
