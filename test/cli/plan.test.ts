import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GITHUB_COMMENT_LIMIT } from '../../src/reconcile/index.js';
import { tempRepo, yamlTask, YAML_WEBHOOK, type TempRepo } from '../helpers/git.js';
import { runCli } from '../helpers/cli.js';

describe('taskops plan', () => {
  let repo: TempRepo;
  const plan = (...args: string[]) => runCli(['plan', ...args], { cwd: repo.dir });

  beforeEach(async () => {
    repo = await tempRepo();
  });
  afterEach(() => repo.cleanup());

  it('plans every object as a create when the base has no manifests yet', async () => {
    const base = await repo.commit('empty');
    await repo.commit('add tasks', {
      'manifests/webhook.yaml': YAML_WEBHOOK,
      'manifests/t0.yaml': yamlTask('t0'),
    });
    const r = await plan('--base', base, 'manifests');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  + Webhook/hook\n');
    expect(r.stdout).toContain('  + Task/t0\n');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Plan: 2 to create, 0 to update, 0 to delete.');
  });

  it('plans creates, updates and deletes between two commits, head defaulting to HEAD', async () => {
    const base = await repo.commit('base', {
      'manifests/webhook.yaml': YAML_WEBHOOK,
      'manifests/t0.yaml': yamlTask('t0'),
      'manifests/t1.yaml': yamlTask('t1'),
    });
    const head = await repo.commit('change', {
      'manifests/t0.yaml': yamlTask('t0', { timeoutSeconds: '60' }),
      'manifests/t1.yaml': null,
      'manifests/t2.yaml': yamlTask('t2'),
    });
    const r = await plan('--base', base, 'manifests', '--detailed-exitcode');
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe(`taskops will perform these actions to match ${head}:`);
    expect(r.stdout).toContain('  ~ Task/t0\n      ~ spec.timeoutSeconds: 300 → 60\n');
    expect(r.stdout).toContain('  + Task/t2\n');
    expect(r.stdout).toContain('  - Task/t1\n');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Plan: 1 to create, 1 to update, 1 to delete.');
  });

  it('reads committed content only: uncommitted edits are not part of the plan', async () => {
    await repo.commit('base', {
      'manifests/webhook.yaml': YAML_WEBHOOK,
      'manifests/t0.yaml': yamlTask('t0'),
    });
    repo.write({ 'manifests/t9.yaml': yamlTask('t9') });
    const r = await plan('--base', 'HEAD', '--head', 'HEAD', 'manifests', '--detailed-exitcode');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No changes\. Live state matches [0-9a-f]{40}\.\n$/);
  });

  it('warns when --head is HEAD and the manifests have uncommitted changes, in every format', async () => {
    await repo.commit('base', {
      'manifests/webhook.yaml': YAML_WEBHOOK,
      'manifests/t0.yaml': yamlTask('t0'),
    });
    const clean = await plan('--base', 'HEAD', 'manifests');
    expect(clean.stdout).not.toContain('Warnings:');
    repo.write({
      'manifests/t0.yaml': yamlTask('t0', { timeoutSeconds: '60' }),
      'manifests/t9.yaml': yamlTask('t9'),
    });
    const text = await plan('--base', 'HEAD', 'manifests');
    expect(text.stdout).toContain(
      'Warnings:\n  the working tree has uncommitted manifest changes (manifests/t0.yaml, manifests/t9.yaml) that this plan does not include: --head HEAD is the last commit; commit them to see them in the plan\n',
    );
    expect(text.stdout.trimEnd().split('\n').pop()).toMatch(/^No changes\./);
    const json = JSON.parse((await plan('--base', 'HEAD', '--output', 'json', 'manifests')).stdout);
    expect(json.warnings[0].message).toContain('uncommitted manifest changes');
    const head = await repo.commit('now committed');
    const explicit = await plan('--base', 'HEAD~1', '--head', head, 'manifests');
    expect(explicit.stdout).not.toContain('uncommitted');
  });

  it('makes the markdown comment carry the base and head SHAs and say who applies the change', async () => {
    const base = await repo.commit('base', { 'manifests/webhook.yaml': YAML_WEBHOOK });
    const head = await repo.commit('add', { 'manifests/t0.yaml': yamlTask('t0') });
    const saved = (await plan('--base', base, '--output', 'markdown', 'manifests')).stdout;
    expect(saved.split('\n')[0]).toBe('<!-- taskops-plan -->');
    expect(saved).toContain(`Base <code>${base}</code> → head <code>${head}</code>`);
    expect(saved).toContain('<code>taskops reconcile --plan plan.json</code>');
    const auto = (
      await plan('--base', base, '-o', 'markdown', '--auto-sync', 'http://127.0.0.1:8080', 'manifests')
    ).stdout;
    expect(auto).toContain(
      "**How it is applied:** the engine's auto-sync at <code>http://127.0.0.1:8080</code>",
    );
  });

  it('prints a markdown pull-request comment, byte-identical across runs and under the size limit', async () => {
    const base = await repo.commit('base', { 'manifests/webhook.yaml': YAML_WEBHOOK });
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) {
      files[`manifests/t${i}.yaml`] = yamlTask(`task-${String(i).padStart(3, '0')}`, {
        params: `{payload: {text: "${'x'.repeat(150)} \${NAME}"}}`,
      });
    }
    await repo.commit('many', files);
    const one = await plan('--base', base, '--output', 'markdown', 'manifests');
    const two = await plan('--base', base, '--output', 'markdown', 'manifests');
    expect(one.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(one.stdout.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(one.stdout).toContain('| Create | 400 |');
    expect(one.stdout).toContain('more objects not shown');
  });

  it('fails with exit 1 when the head manifests are invalid', async () => {
    const base = await repo.commit('base', { 'manifests/webhook.yaml': YAML_WEBHOOK });
    await repo.commit('broken', { 'manifests/t0.yaml': yamlTask('t0', { concurrency: 'sometimes' }) });
    const r = await plan('--base', base, 'manifests');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/manifests\/t0\.yaml:\d+:\d+: Task\/t0: /);
  });

  it('fails with exit 1 naming a base ref that does not exist', async () => {
    await repo.commit('base', { 'manifests/webhook.yaml': YAML_WEBHOOK });
    const r = await plan('--base', 'origin/main', 'manifests');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ref origin/main is not a commit');
  });

  it('exits 64 without --base', async () => {
    await repo.commit('base');
    expect((await plan('manifests')).code).toBe(64);
  });
});
