import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/store/hash.js';
import { openStore } from '../../src/store/index.js';
import { tempDir, tempRepo, yamlTask, YAML_WEBHOOK, type TempRepo } from '../helpers/git.js';
import { runCli } from '../helpers/cli.js';

describe('taskops status', () => {
  let repo: TempRepo;
  let data: ReturnType<typeof tempDir>;
  let dataDir: string;
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args], { cwd: repo.dir });

  beforeEach(async () => {
    repo = await tempRepo();
    data = tempDir('taskops-data-');
    dataDir = join(data.dir, 'state');
  });
  afterEach(() => {
    repo.cleanup();
    data.cleanup();
  });

  it('refuses a data dir that does not exist, naming it, and creates nothing', async () => {
    const r = await cli('status');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `taskops: the data dir ${dataDir} does not exist: give --data-dir (or TASKOPS_DATA_DIR) the directory ` +
        'that serve or reconcile uses, or read a running engine with --server URL\n',
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('says nothing has been applied on a store that has applied nothing yet', async () => {
    await (await openStore(dataDir)).close();
    const r = await cli('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Applied revision: none yet');
  });

  it('shows the applied revision, counts per kind and no drift after a reconcile', async () => {
    const sha = await repo.commit('tasks', {
      'm/webhook.yaml': YAML_WEBHOOK,
      'm/t0.yaml': yamlTask('t0'),
      'm/t1.yaml': yamlTask('t1'),
    });
    await cli('reconcile', '--repo', repo.dir, '--ref', 'main', '--path', 'm');
    const r = await cli('status');
    expect(r.stdout).toContain(`Applied revision: ${sha} at `);
    expect(r.stdout).toMatch(/Webhook\s+1\s+1\s+0\s+0/);
    expect(r.stdout).toMatch(/Task\s+2\s+2\s+0\s+0/);
    expect(r.stdout).toContain('Drift: none');
    const doc = JSON.parse((await cli('status', '--output', 'json')).stdout);
    expect(doc).toMatchObject({ appliedRevision: sha, drift: [], nextFirings: [] });
    expect(doc.objects.Task).toEqual({ total: 2, taskops: 2, api: 0, retired: 0 });
  });

  it('lists objects changed by hand since the last apply as drift', async () => {
    repo.write({ 'm/webhook.yaml': YAML_WEBHOOK, 'm/t0.yaml': yamlTask('t0') });
    await cli('reconcile', 'm');
    const store = await openStore(dataDir);
    const live = (await store.getObject('Task', 't0'))!;
    const spec = { ...live.spec, enabled: false };
    await store.putObjectByHand(
      { kind: 'Task', name: 't0', metadata: live.metadata, spec, hash: contentHash(live.metadata, spec) },
      new Date('2026-05-01T00:00:00Z'),
    );
    const metadata = { name: 'mine', labels: {} };
    await store.putObjectByHand(
      {
        kind: 'Tag',
        name: 'mine',
        metadata,
        spec: { category: 'vms' },
        hash: contentHash(metadata, { category: 'vms' }),
      },
      new Date(),
    );
    await store.close();
    const r = await cli('status');
    expect(r.stdout).toContain('Drift: 1 object changed by hand');
    expect(r.stdout).toContain('~ Task/t0 (changed 2026-05-01T00:00:00.000Z)');
    expect(r.stdout).toMatch(/Tag\s+1\s+0\s+1\s+0/);
    const doc = JSON.parse((await cli('status', '--output', 'json')).stdout);
    expect(doc.drift).toEqual([
      expect.objectContaining({ kind: 'Task', name: 't0', changedAt: '2026-05-01T00:00:00.000Z' }),
    ]);
  });
});
