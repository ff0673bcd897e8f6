import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { startVergeosSim, type VergeosSim } from '../helpers/vergeos-sim.js';

const KEY = 'vk_import_0123456789';
let sim: VergeosSim;
let dir: string;

beforeEach(async () => {
  sim = await startVergeosSim();
  sim.apiKeys.set(KEY, {});
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-import-'));
  const vm = sim.addVm('gpu-ws-01');
  const user = { $key: 3, name: 'JThompson' };
  sim.tables.users!.push(user);
  const t = sim.tables;
  t.webhook_urls!.push({
    $key: 1,
    name: 'Slack ops',
    url: 'https://hooks.slack.com/services/T000/B000/XXXX',
    headers: 'Content-Type:application/json\nX-Api-Key:abc123-literal',
    authorization_type: 'bearer',
    authorization_value: 'xoxb-super-secret-token',
    allow_insecure: false,
    timeout: 2,
    retries: 5,
  });
  t.tasks!.push(
    {
      $key: 1,
      name: 'Power on GPU',
      description: 'at login',
      enabled: true,
      action: 'poweron',
      table: 'vms',
      owner: `vms/${vm.$key}`,
      delete_after_run: false,
      settings_args: {},
    },
    {
      $key: 2,
      name: 'power-off-gpu',
      enabled: true,
      action: 'poweroff',
      table: 'vms',
      owner: `vms/${vm.$key}`,
      delete_after_run: false,
      settings_args: {},
    },
    {
      $key: 3,
      name: 'notify-slack',
      enabled: true,
      action: 'send',
      table: 'webhook_urls',
      owner: 'webhook_urls/1',
      settings_args: { message: '{"text": "sync failed on ${NAME}"}' },
    },
    {
      $key: 4,
      name: 'snapshot-it',
      enabled: true,
      action: 'snapshot',
      table: 'vms',
      owner: 'vms/999',
      settings_args: {},
    },
  );
  t.task_schedules!.push(
    {
      $key: 1,
      name: 'Friday 6pm',
      repeat_every: 'week',
      repeat_iteration: 1,
      start_date: '2026-01-02',
      start_time_of_day: 64800,
      friday: true,
      enabled: true,
    },
    {
      $key: 2,
      name: 'business-hours',
      repeat_every: 'hour',
      repeat_iteration: 1,
      start_time_of_day: 28800,
      end_time_of_day: 61200,
      enabled: true,
    },
  );
  t.task_schedule_triggers!.push({ $key: 1, task: 2, schedule: 1 }, { $key: 2, task: 3, schedule: 2 });
  t.task_events!.push(
    {
      $key: 1,
      table: 'users',
      event: 'login',
      event_name: 'jthompson-login',
      task: 1,
      owner: `users/${user.$key}`,
    },
    {
      $key: 2,
      table: 'alarms',
      event: 'lowered',
      event_name: 'alarm lowered',
      task: 3,
      table_event_filters: { level: 'summary' },
    },
  );
});
afterEach(async () => {
  await sim.close();
});

const importInto = (out: string, extra: string[] = []) =>
  runCli(['import', 'vergeos', '--url', sim.url, '--out', out, '--timezone', 'America/New_York', ...extra], {
    env: { VERGEOS_API_KEY: KEY },
  });

describe('taskops import vergeos', () => {
  it('round trip: simulator objects → manifests → validate → a plan of creates', async () => {
    const out = path.join(dir, 'manifests');
    const imported = await importInto(out);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(
      'secrets referenced (set them, and list them under secrets.env in the engine config): VERGEOS_WEBHOOK_SLACK_OPS_TOKEN',
    );
    expect(imported.stdout).toMatch(/not imported: Webhook\/Slack-ops: header X-Api-Key holds a secret/);
    expect(imported.stdout).toMatch(
      /not imported: Task\/snapshot-it: its object vms\/999 could not be named/,
    );
    expect(imported.stdout).toMatch(
      /not imported: Schedule\/business-hours: its daily window ending at 17:00/,
    );
    expect(imported.stdout).toMatch(/VergeOS schedules carry no time zone; imported as America\/New_York/);

    const texts = ['webhooks.yaml', 'schedules.yaml', 'tasks.yaml', 'triggers.yaml'].map((f) =>
      readFileSync(path.join(out, f), 'utf8'),
    );
    expect(texts.join('\n')).not.toContain('xoxb-super-secret-token');
    expect(texts.join('\n')).not.toContain('abc123-literal');
    type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
    const docs = texts.flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Doc));
    const byName = Object.fromEntries(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d.spec]));
    expect(byName['Schedule/Friday-6pm']).toEqual({
      timezone: 'America/New_York',
      repeat: { every: 1, unit: 'weeks', on: ['friday'], at: '18:00' },
      startsAt: '2026-01-02T18:00:00',
    });
    expect(byName['Task/power-off-gpu']).toMatchObject({
      objectType: 'vms',
      target: { name: 'gpu-ws-01' },
      action: 'power-off',
      schedules: ['Friday-6pm'],
    });
    expect(byName['Webhook/Slack-ops']).toMatchObject({
      auth: { type: 'bearer', tokenFrom: { env: 'VERGEOS_WEBHOOK_SLACK_OPS_TOKEN' } },
      timeoutSeconds: 3,
      retries: 5,
    });
    expect(byName['EventTrigger/jthompson-login']).toEqual({
      event: { type: 'users', name: 'login', object: 'JThompson' },
      tasks: ['Power-on-GPU'],
    });
    expect(byName['EventTrigger/alarm-lowered']).toEqual({
      event: { type: 'alarms', name: 'lowered', where: { level: 'summary' } },
      tasks: ['notify-slack'],
    });

    const config = path.join(dir, 'taskops.config.yaml');
    writeFileSync(
      config,
      `drivers:\n  vms:\n    type: vergeos\n    url: ${sim.url}\n    auth: {tokenFrom: {env: VERGEOS_API_KEY}}\nsecrets:\n  env: [VERGEOS_WEBHOOK_SLACK_OPS_TOKEN]\n`,
    );
    const valid = await runCli(['--config', config, 'validate', out]);
    expect(valid.stderr + valid.stdout).not.toMatch(/error/i);
    expect(valid.code).toBe(0);

    const plan = await runCli([
      '--config',
      config,
      '--data-dir',
      path.join(dir, 'data'),
      'reconcile',
      out,
      '--dry-run',
    ]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\+ Task\/power-off-gpu/);
    expect(plan.stdout.trim().split('\n').at(-1)).toBe('Plan: 8 to create, 0 to update, 0 to delete.');
  });

  it('refuses to overwrite earlier manifests without --force', async () => {
    const out = path.join(dir, 'again');
    expect((await importInto(out)).code).toBe(0);
    const second = await importInto(out);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already exist; use --force/);
    expect((await importInto(out, ['--force'])).code).toBe(0);
  });

  it('a refused key is a clear error that never shows the key', async () => {
    const r = await runCli(['import', 'vergeos', '--url', sim.url, '--out', path.join(dir, 'x')], {
      env: { VERGEOS_API_KEY: 'vk_not_known_here' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401 Unauthorized.*\{env: VERGEOS_API_KEY\}/);
    expect(r.stderr).not.toContain('vk_not_known_here');
  });
});
