import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/store/hash.js';
import { openStore } from '../../src/store/index.js';
import { tempDir, tempRepo, yamlTask, YAML_WEBHOOK, type TempRepo } from '../helpers/git.js';
import { runCli } from '../helpers/cli.js';

/** Manifests of n webhook tasks t0..t(n-1) plus their webhook, as files. */
function manifests(n: number, extra: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = { 'manifests/webhook.yaml': YAML_WEBHOOK };
  for (let i = 0; i < n; i++) files[`manifests/t${i}.yaml`] = yamlTask(`t${i}`, extra);
  return files;
}

describe('taskops reconcile', () => {
  let repo: TempRepo;
  let data: ReturnType<typeof tempDir>;
  let dataDir: string;
  const reconcile = (...args: string[]) =>
    runCli(['--data-dir', dataDir, 'reconcile', ...args], { cwd: repo.dir });

  beforeEach(async () => {
    repo = await tempRepo();
    data = tempDir('taskops-data-');
    dataDir = join(data.dir, 'state');
  });
  afterEach(() => {
    repo.cleanup();
    data.cleanup();
  });

  const liveNames = async () => {
    const store = await openStore(dataDir);
    try {
      return (await store.listObjects()).map((o) => `${o.kind}/${o.name}`);
    } finally {
      await store.close();
    }
  };

  it('--dry-run prints the creates and changes nothing; --detailed-exitcode exits 2', async () => {
    repo.write(manifests(2));
    const r = await reconcile('manifests', '--dry-run', '--detailed-exitcode');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('  + Webhook/hook\n');
    expect(r.stdout).toContain('  + Task/t0\n');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Plan: 3 to create, 0 to update, 0 to delete.');
    expect(await liveNames()).toEqual([]);
  });

  it('--dry-run creates no data dir and leaves an existing store byte-identical', async () => {
    repo.write(manifests(1));
    const fresh = await reconcile('manifests', '--dry-run');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout.trimEnd().split('\n').pop()).toBe('Plan: 2 to create, 0 to update, 0 to delete.');
    expect(existsSync(dataDir)).toBe(false);
    expect((await reconcile('manifests')).code).toBe(0);
    repo.write(manifests(2));
    const before = readFileSync(join(dataDir, 'taskops.db'));
    const dry = await reconcile('manifests', '--dry-run');
    expect(dry.stdout.trimEnd().split('\n').pop()).toBe('Plan: 1 to create, 0 to update, 0 to delete.');
    expect(readFileSync(join(dataDir, 'taskops.db')).equals(before)).toBe(true);
  });

  it('applies the plan, writes one audit line per change, and a second reconcile prints No changes', async () => {
    repo.write(manifests(2));
    const first = await reconcile('manifests');
    expect(first.code).toBe(0);
    expect(first.stdout.trimEnd().split('\n').pop()).toBe('Applied: 3 created, 0 updated, 0 deleted.');
    expect(await liveNames()).toEqual(['Task/t0', 'Task/t1', 'Webhook/hook']);
    const logs = readdirSync(join(dataDir, 'logs'));
    expect(logs).toHaveLength(1);
    const lines = readFileSync(join(dataDir, 'logs', logs[0]!), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.action} ${l.kind}/${l.name}`)).toEqual([
      'create Webhook/hook',
      'create Task/t0',
      'create Task/t1',
    ]);
    expect(Object.keys(lines[0])).toEqual(['at', 'revision', 'action', 'kind', 'name']);

    const second = await reconcile('manifests', '--detailed-exitcode');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^No changes\. Live state matches path:.*manifests@[0-9a-f]{12}\.\n$/);
    const dry = await reconcile('manifests', '--dry-run', '--detailed-exitcode');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^No changes\. Live state matches /);
  });

  it('plans an update with a field-level diff and a delete when a manifest is removed', async () => {
    repo.write(manifests(4));
    await reconcile('manifests');
    repo.write({ 'manifests/t0.yaml': yamlTask('t0', { timeoutSeconds: '60' }), 'manifests/t3.yaml': null });
    const r = await reconcile('manifests');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  ~ Task/t0\n      ~ spec.timeoutSeconds: 300 → 60\n');
    expect(r.stdout).toContain('  - Task/t3\n');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Applied: 0 created, 1 updated, 1 deleted.');
    expect(await liveNames()).not.toContain('Task/t3');
  });

  it('treats a field written out with its default value as no change', async () => {
    repo.write(manifests(1));
    await reconcile('manifests');
    repo.write({
      'manifests/t0.yaml': yamlTask('t0', {
        enabled: 'true',
        concurrency: 'forbid',
        deleteAfterRun: 'false',
      }),
      'manifests/webhook.yaml':
        YAML_WEBHOOK + '  timeoutSeconds: 10\n  retries: 3\n  headers: {content-type: application/json}\n',
    });
    const r = await reconcile('manifests', '--dry-run', '--detailed-exitcode');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No changes\./);
  });

  it('applies nothing from an invalid manifest set and exits 1 naming file:line:col', async () => {
    repo.write(manifests(1));
    await reconcile('manifests');
    repo.write({
      'manifests/t1.yaml': yamlTask('t1', { timeoutSeconds: '"soon"' }),
      'manifests/t0.yaml': null,
    });
    const r = await reconcile('manifests');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/t1\.yaml:\d+:\d+: Task\/t1: /);
    expect(r.stderr).toContain('Nothing was applied.');
    expect(await liveNames()).toEqual(['Task/t0', 'Webhook/hook']);
  });

  it('refuses to delete every live object unless --allow-delete-all', async () => {
    repo.write(manifests(2));
    await reconcile('manifests');
    repo.write({
      'manifests/t0.yaml': null,
      'manifests/t1.yaml': null,
      'manifests/webhook.yaml': null,
      'manifests/README.md': 'moved',
    });
    const refused = await reconcile('manifests');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('would delete every live object taskops manages (3 of 3)');
    expect(refused.stderr).toContain('--allow-delete-all');
    expect(await liveNames()).toHaveLength(3);
    const allowed = await reconcile('manifests', '--allow-delete-all');
    expect(allowed.code).toBe(0);
    expect(await liveNames()).toEqual([]);
  });

  it('refuses a mass delete above --max-delete-share', async () => {
    repo.write(manifests(9));
    await reconcile('manifests');
    const removed = Object.fromEntries([3, 4, 5, 6, 7, 8].map((i) => [`manifests/t${i}.yaml`, null]));
    repo.write(removed);
    const r = await reconcile('manifests');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('would delete 6 of 10 live objects');
    expect(await liveNames()).toHaveLength(10);
    const dry = await reconcile('manifests', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Applying this plan would be refused:\n  refusing to apply');
    expect((await reconcile('manifests', '--max-delete-share', '0.7')).code).toBe(0);
    expect(await liveNames()).toHaveLength(4);
  });

  it('keeps objects made through the API and notes them as unmanaged', async () => {
    repo.write(manifests(1));
    await reconcile('manifests');
    const store = await openStore(dataDir);
    const metadata = { name: 'by-hand', labels: {} };
    const spec = { category: 'vms', members: ['x'] };
    await store.putObjectByHand(
      { kind: 'Tag', name: 'by-hand', metadata, spec, hash: contentHash(metadata, spec) },
      new Date(),
    );
    await store.close();
    const r = await reconcile('manifests');
    expect(r.stdout).toContain('Tag/by-hand: unmanaged, kept');
    expect(await liveNames()).toContain('Tag/by-hand');
  });

  it('shows a live object changed by hand as drift and puts it back', async () => {
    repo.write(manifests(1));
    await reconcile('manifests');
    const store = await openStore(dataDir);
    const live = (await store.getObject('Task', 't0'))!;
    const spec = { ...live.spec, action: 'edited-by-hand' };
    await store.putObjectByHand(
      { kind: 'Task', name: 't0', metadata: live.metadata, spec, hash: contentHash(live.metadata, spec) },
      new Date(),
    );
    await store.close();
    const r = await reconcile('manifests', '--dry-run');
    expect(r.stdout).toContain(
      '~ Task/t0 (drift: changed by hand since it was applied; put back to the source)',
    );
    expect(r.stdout).toContain('~ spec.action: "edited-by-hand" → "send"');
    await reconcile('manifests');
    expect((await reconcile('manifests', '--dry-run')).stdout).toMatch(/^No changes\./);
  });

  it('prints a byte-identical plan run after run', async () => {
    repo.write(manifests(3, { params: '{payload: {text: "hi ${NAME}", n: 1}}' }));
    for (const output of ['text', 'json', 'markdown']) {
      const one = await reconcile('manifests', '--dry-run', '--output', output);
      const two = await reconcile('manifests', '--dry-run', '--output', output);
      expect(one.code).toBe(0);
      expect(two.stdout).toBe(one.stdout);
    }
  });

  it('masks secrets in text, json and markdown: references shown, values never resolved', async () => {
    repo.write(manifests(1));
    process.env.SLACK_TOKEN = 'xoxb-super-secret-value';
    process.env.SLACK_URL = 'https://hooks.slack.com/services/SECRET/PATH';
    try {
      for (const output of ['text', 'json', 'markdown']) {
        const r = await reconcile('manifests', '--dry-run', '--output', output);
        expect(r.stdout).toContain('env:SLACK_TOKEN');
        expect(r.stdout).toContain('env:SLACK_URL');
        expect(r.stdout).not.toContain('xoxb-super-secret-value');
        expect(r.stdout).not.toContain('hooks.slack.com');
      }
    } finally {
      delete process.env.SLACK_TOKEN;
      delete process.env.SLACK_URL;
    }
  });

  it('prints the contract JSON with --output json', async () => {
    repo.write(manifests(1));
    const doc = JSON.parse((await reconcile('manifests', '--dry-run', '--output', 'json')).stdout);
    expect(doc.summary).toEqual({ create: 2, update: 0, delete: 0 });
    expect(
      doc.changes.map(
        (c: { action: string; kind: string; name: string }) => `${c.action} ${c.kind}/${c.name}`,
      ),
    ).toEqual(['create Webhook/hook', 'create Task/t0']);
  });

  it('reconciles from a git repository with --repo --ref --path, the commit SHA as revision', async () => {
    const sha = await repo.commit('tasks', manifests(1));
    const r = await reconcile('--repo', repo.dir, '--ref', 'main', '--path', 'manifests');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`taskops applied these changes from ${sha}:`);
    expect((await reconcile('--repo', repo.dir, '--ref', 'main', '--path', 'manifests')).stdout).toBe(
      `No changes. Live state matches ${sha}.\n`,
    );
  });

  it('applies nothing from a broken commit in the repository', async () => {
    await repo.commit('tasks', manifests(1));
    await reconcile('--repo', repo.dir, '--ref', 'main', '--path', 'manifests');
    await repo.commit('broken', {
      'manifests/t0.yaml': 'apiVersion: taskops/v1\nkind: Task\nmetadata: {name: t0}\nspec: [\n',
    });
    const r = await reconcile('--repo', repo.dir, '--ref', 'main', '--path', 'manifests');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/manifests\/t0\.yaml:\d+:\d+/);
    expect(await liveNames()).toEqual(['Task/t0', 'Webhook/hook']);
  });

  it('fails clearly for an unreachable repo, an unknown ref and a missing path, applying nothing', async () => {
    await repo.commit('tasks', manifests(1));
    const missing = join(data.dir, 'nowhere');
    const unreachable = await reconcile('--repo', missing, '--ref', 'main');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`could not fetch ${missing}`);
    const badRef = await reconcile('--repo', repo.dir, '--ref', 'nope');
    expect(badRef.code).toBe(1);
    expect(badRef.stderr).toContain('ref nope was not found');
    const badPath = await reconcile('--repo', repo.dir, '--ref', 'main', '--path', 'deploy');
    expect(badPath.code).toBe(1);
    expect(badPath.stderr).toContain('path deploy does not exist');
    expect(await liveNames()).toEqual([]);
  });

  it('exits 64 for usage errors', async () => {
    expect((await reconcile('manifests', '--ref', 'main')).code).toBe(64);
    expect((await reconcile('manifests', '--output', 'yaml')).code).toBe(64);
    expect((await reconcile('manifests', '--max-delete-share', '2')).code).toBe(64);
    expect((await reconcile('manifests', '--repo', repo.dir)).code).toBe(64);
  });
});
