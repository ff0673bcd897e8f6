import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempRepo } from '../helpers/git.js';

describe('taskops validate', () => {
  it('accepts the bundled examples and exits 0, noting object types and secrets it cannot check without a config', async () => {
    const r = await runCli(['validate', 'examples']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10 manifests in 7 files: OK');
    expect(r.stdout).toContain(
      'objectType vms is not built in; unchecked without an engine config (--config) (note)',
    );
    expect(r.stdout).toContain(
      "examples/sync-alerts/webhook.yaml:8:19: Webhook/slack-ops: {env: SLACK_WEBHOOK_URL} unchecked without an engine config (--config): the engine's secrets allowlist decides whether it may be read (note)",
    );
  });

  it('skips examples/vergeos (its own engine repo) and validates it against its own config', async () => {
    const all = await runCli(['validate', 'examples']);
    expect(all.stdout).not.toContain('examples/vergeos');
    const own = await runCli([
      '--config',
      'examples/vergeos/taskops.config.yaml',
      'validate',
      'examples/vergeos/manifests',
    ]);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('6 manifests in 4 files: OK');
  });

  it('checks object types and actions against the drivers of an engine config', async () => {
    const ok = await runCli(['--config', 'examples/taskops.config.yaml', 'validate', 'examples']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain('unchecked');
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-validate-'));
    writeFileSync(
      path.join(dir, 'tasks.yaml'),
      [
        'apiVersion: taskops/v1',
        'kind: Task',
        'metadata: {name: reboot-vm}',
        'spec: {objectType: vms, target: {name: vm-1}, action: reboot}',
        '---',
        'apiVersion: taskops/v1',
        'kind: Task',
        'metadata: {name: scale-tenant}',
        'spec: {objectType: tenants, target: {name: t1}, action: scale}',
      ].join('\n'),
    );
    const bad = await runCli(['--config', 'examples/taskops.config.yaml', 'validate', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      'tasks.yaml:4:55: Task/reboot-vm: the vms driver has no action reboot; it offers power-off, power-on',
    );
    expect(bad.stdout).toContain(
      'tasks.yaml:9:20: Task/scale-tenant: no driver for objectType tenants in the engine config; known: email, vms, webhook',
    );
  });

  it('reports every error at once with a one-line summary and exits 1', async () => {
    const r = await runCli([
      'validate',
      'test/fixtures/invalid/10-webhook-timeout-too-low.yaml',
      'test/fixtures/invalid/16-bad-cron.yaml',
      'test/fixtures/invalid/dup',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      'test/fixtures/invalid/10-webhook-timeout-too-low.yaml:7:19: Webhook/hook: spec.timeoutSeconds must be at least 3 (got 2)',
      'test/fixtures/invalid/16-bad-cron.yaml:6:9: Schedule/bad-cron: cron minute field "61" is out of range 0-59',
      'test/fixtures/invalid/dup/b.yaml:4:9: Tag/gpu: duplicate: Tag/gpu is also defined at test/fixtures/invalid/dup/a.yaml:1:1; names are unique per kind',
      '3 errors in 3 files',
    ]);
  });

  it('prints stable JSON with --output json', async () => {
    const r = await runCli(['validate', '--output', 'json', 'test/fixtures/invalid/16-bad-cron.yaml']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      files: 1,
      manifests: 1,
      errors: [
        {
          file: 'test/fixtures/invalid/16-bad-cron.yaml',
          line: 6,
          col: 9,
          object: 'Schedule/bad-cron',
          layer: 'semantic',
          message: 'cron minute field "61" is out of range 0-59',
        },
      ],
      warnings: [],
      notes: [],
    });
  });

  it('fails an empty manifest set (a wrong path must not pass CI) unless --allow-empty', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-validate-empty-'));
    writeFileSync(path.join(dir, 'README.md'), '# not a manifest\n');
    const empty = await runCli(['validate', dir]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain(
      `${dir}:1:1: no manifests found in 0 files: check the path, or pass --allow-empty if an empty set is meant`,
    );
    const allowed = await runCli(['validate', '--allow-empty', dir]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('0 manifests in 0 files: OK');
  });

  it('prints warnings in text, JSON and markdown with exit 0, and fails on them with --strict', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-validate-warn-'));
    writeFileSync(
      path.join(dir, 's.yaml'),
      'apiVersion: taskops/v1\nkind: Schedule\nmetadata: {name: xmas-2020}\nspec: {once: "2020-12-24T17:00:00"}\n',
    );
    const text = await runCli(['validate', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('s.yaml:4:14: Schedule/xmas-2020: once 2020-12-24T17:00:00 is in the past');
    expect(text.stdout).toContain(
      's.yaml:3:18: Schedule/xmas-2020: unused: no Task lists it in spec.schedules, so it triggers nothing (warning)',
    );
    expect(text.stdout).toContain('1 manifest in 1 file: OK, 2 warnings');
    const json = JSON.parse((await runCli(['validate', '-o', 'json', dir])).stdout);
    expect(json.valid).toBe(true);
    expect(json.warnings.map((w: { message: string }) => w.message)).toEqual([
      'unused: no Task lists it in spec.schedules, so it triggers nothing',
      expect.stringMatching(/^once 2020-12-24T17:00:00 is in the past \(now .*\): it will never fire$/),
    ]);
    const md = (await runCli(['validate', '-o', 'markdown', dir])).stdout;
    expect(md).toContain('### taskops validate: ✅ 1 manifest in 1 file: OK, 2 warnings');
    expect(md).toContain('**Warnings**');
    const strict = await runCli(['validate', '--strict', dir]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      'unused: no Task lists it in spec.schedules, so it triggers nothing (--strict)',
    );
    expect(strict.stdout).toContain('2 errors in 1 file');
  });

  it('finds no warnings in the bundled examples', async () => {
    const r = await runCli(['validate', '--strict', 'examples']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('warning');
  });

  it('exits 64 on a usage error such as an unknown output format', async () => {
    const r = await runCli(['validate', '--output', 'yaml', 'examples']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--output must be one of text, json');
  });

  it('names a missing path instead of crashing', async () => {
    const r = await runCli(['validate', 'no/such/dir']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no/such/dir:1:1: no such file or directory');
  });
});

describe('taskops validate, other sources and formats', () => {
  it('validates a git repository at a ref and subfolder, naming files as they are in the repository', async () => {
    const repo = await tempRepo();
    try {
      await repo.commit('broken', {
        'manifests/tag.yaml':
          'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: gpu}\nspec: {category: VMs}\n',
      });
      const dataDir = mkdtempSync(path.join(tmpdir(), 'taskops-validate-data-'));
      const r = await runCli([
        '--data-dir',
        dataDir,
        'validate',
        '--repo',
        repo.dir,
        '--ref',
        'main',
        '--path',
        'manifests',
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        'manifests/tag.yaml:4:18: Tag/gpu: spec.category must be lowercase letters, digits and -, starting with a letter (like power-off) (got string "VMs")',
      );
    } finally {
      repo.cleanup();
    }
  });

  it('prints a pull-request comment with --output markdown', async () => {
    const r = await runCli(['validate', '--output', 'markdown', 'test/fixtures/invalid/16-bad-cron.yaml']);
    expect(r.stdout).toBe(
      [
        '### taskops validate: ❌ 1 error in 1 file',
        '',
        '```',
        'test/fixtures/invalid/16-bad-cron.yaml:6:9: Schedule/bad-cron: cron minute field "61" is out of range 0-59',
        '```',
        '',
      ].join('\n'),
    );
  });
});
