import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/http-receiver.js';
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.js';

const EXAMPLES = path.resolve('examples');
const read = (dir: string) =>
  Object.fromEntries(
    ['tag.yaml', 'tasks.yaml', 'schedule.yaml', 'triggers.yaml'].map((f) => [
      f,
      readFileSync(path.join(dir, f), 'utf8'),
    ]),
  );

let fixture: EngineFixture | undefined;
let receiver: Receiver | undefined;
let smtp: SmtpPeer | undefined;
afterEach(async () => {
  await fixture?.close();
  await receiver?.close();
  await smtp?.close();
  fixture = receiver = smtp = undefined;
});

describe('scenario 1: GPU VMs follow JThompson', () => {
  /** The power state per VM: the last line for each in the example driver's append-only record. */
  const vmState = (f: EngineFixture) => {
    const state: Record<string, { power: string }> = {};
    for (const line of readFileSync(path.join(f.dir, 'vms.jsonl'), 'utf8').trim().split('\n')) {
      const { vm, power } = JSON.parse(line) as { vm: string; power: string };
      state[vm] = { power };
    }
    return Object.fromEntries(Object.entries(state).sort(([a], [b]) => (a < b ? -1 : 1)));
  };

  async function start(now: string) {
    const f = await engineFixture({
      now,
      manifests: read(path.join(EXAMPLES, 'gpu-vms')),
      config: {
        drivers: {
          vms: {
            type: 'command',
            workingDirectory: EXAMPLES,
            actions: {
              'power-on': ['node', 'drivers/vm-power.mjs', 'on', '${NAME}'],
              'power-off': ['node', 'drivers/vm-power.mjs', 'off', '${NAME}'],
            },
          },
        },
      },
    });
    process.env.TASKOPS_EXAMPLE_VMS = path.join(f.dir, 'vms.jsonl');
    return f;
  }

  it('powers every tagged VM on at login and off at logout, one run per member', async () => {
    fixture = await start('2026-11-23T12:00:00Z');
    await fixture.engine.submitEvent({ type: 'users', name: 'login', object: 'JThompson' });
    await fixture.engine.whenIdle();
    expect(vmState(fixture)).toMatchObject({
      'gpu-ws-01': { power: 'on' },
      'gpu-ws-02': { power: 'on' },
      'gpu-ws-03': { power: 'on' },
    });
    await fixture.engine.submitEvent({ type: 'users', name: 'logout', object: 'JThompson' });
    await fixture.engine.whenIdle();
    expect(Object.values(vmState(fixture)).map((v) => v.power)).toEqual(['off', 'off', 'off']);

    const logs = readTaskLogs(fixture.dataDir).filter((l) => l.trigger.kind === 'event');
    expect(logs).toHaveLength(6);
    expect(logs.every((l) => l.status === 'succeeded')).toBe(true);
    expect(logs.map((l) => `${l.task} ${l.target.name}`).sort()).toEqual([
      'power-off-gpu-vms gpu-ws-01',
      'power-off-gpu-vms gpu-ws-02',
      'power-off-gpu-vms gpu-ws-03',
      'power-on-gpu-vms gpu-ws-01',
      'power-on-gpu-vms gpu-ws-02',
      'power-on-gpu-vms gpu-ws-03',
    ]);
  });

  it('ignores another user logging in', async () => {
    fixture = await start('2026-11-23T12:00:00Z');
    await fixture.engine.submitEvent({ type: 'users', name: 'login', object: 'someone-else' });
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir).filter((l) => l.trigger.kind === 'event')).toEqual([]);
  });

  it('powers the VMs off every Friday 18:00 New York time, on both sides of the DST change', async () => {
    fixture = await start('2026-10-26T12:00:00Z');
    // Friday 30 Oct 2026 18:00 EDT = 22:00Z; Friday 6 Nov 2026 18:00 EST = 23:00Z (DST ended 1 Nov).
    fixture.clock.advanceTo('2026-10-30T21:59:59Z');
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir)).toEqual([]);
    fixture.clock.advanceTo('2026-10-30T22:00:00Z');
    await fixture.engine.whenIdle();
    fixture.clock.advanceTo('2026-11-06T22:59:59Z');
    await fixture.engine.whenIdle();
    fixture.clock.advanceTo('2026-11-06T23:00:00Z');
    await fixture.engine.whenIdle();
    const runs = readTaskLogs(fixture.dataDir).filter((l) => l.trigger.kind === 'schedule');
    expect(runs.map((l) => [l.startedAt, l.task, l.trigger.name, l.status])).toEqual([
      ['2026-10-30T22:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
      ['2026-10-30T22:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
      ['2026-10-30T22:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
      ['2026-11-06T23:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
      ['2026-11-06T23:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
      ['2026-11-06T23:00:00.000Z', 'power-off-gpu-vms', 'friday-6pm', 'succeeded'],
    ]);
    expect(Object.values(vmState(fixture)).map((v) => v.power)).toEqual(['off', 'off', 'off']);
  });
});

describe('scenario 2: a sync error alerts Slack and email at once', () => {
  it('delivers the JSON payload with the bearer token and sends the email for one event', async () => {
    receiver = await startReceiver();
    smtp = await startSmtpPeer();
    process.env.SLACK_WEBHOOK_URL = `${receiver.url}/services/T000/B000`;
    process.env.SLACK_BOT_TOKEN = 'xoxb-test-token';
    const dir = path.join(EXAMPLES, 'sync-alerts');
    fixture = await engineFixture({
      now: '2025-10-16T15:38:07Z',
      manifests: Object.fromEntries(
        ['webhook.yaml', 'tasks.yaml', 'trigger.yaml'].map((f) => [
          f,
          readFileSync(path.join(dir, f), 'utf8'),
        ]),
      ),
      config: {
        defaultTimezone: 'America/New_York',
        secrets: { env: ['SLACK_WEBHOOK_URL', 'SLACK_BOT_TOKEN'] },
        smtp: { url: `smtp://127.0.0.1:${smtp.port}`, from: 'taskops@example.com' },
      },
    });
    await fixture.engine.submitEvent({ type: 'syncs', name: 'error', object: 'nightly "DR" sync' });
    await fixture.engine.whenIdle();

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.path).toBe('/services/T000/B000');
    expect(request.headers.authorization).toBe('Bearer xoxb-test-token');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      text: 'Sync Error Alert: nightly "DR" sync failed at Thu, 16 Oct 2025 11:38:07 EDT',
    });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.recipients).toEqual(['oncall@example.com']);
    expect(decodeMimeWords(smtp.messages[0]!.headers.subject ?? '')).toBe(
      'Sync Error Alert: nightly "DR" sync',
    );
    expect(decodeQuotedPrintable(smtp.messages[0]!.text)).toContain(
      'The outgoing sync nightly "DR" sync failed at Thu, 16 Oct 2025 11:38:07 EDT.',
    );

    const external: typeof logs = [];
    const logs = readTaskLogs(fixture.dataDir);
    for (const l of logs) {
      const cause = l.trigger.event ? await fixture.store.getEvent(l.trigger.event) : undefined;
      if (cause && cause.origin !== 'engine') external.push(l);
    }
    expect(external.map((l) => [l.task, l.status, l.trigger.name]).sort()).toEqual([
      ['email-sync-error', 'succeeded', 'sync-error-alerts'],
      ['slack-sync-error', 'succeeded', 'sync-error-alerts'],
    ]);
    expect(JSON.stringify(readTaskLogs(fixture.dataDir))).not.toContain('xoxb-test-token');
  });
});

describe('engine events', () => {
  it('chains a failed task to an alert task, and never loops when the alert itself fails', async () => {
    receiver = await startReceiver();
    receiver.script({ status: 500 }, { status: 500 });
    fixture = await engineFixture({
      manifests: {
        'all.yaml': docs(
          doc('Webhook', 'broken', { url: `${receiver.url}/broken`, retries: 0 }),
          doc('Task', 'flaky', {
            objectType: 'webhook',
            target: { name: 'broken' },
            action: 'send',
            params: { payload: { a: 1 } },
          }),
          doc('Task', 'alert', {
            objectType: 'webhook',
            target: { name: 'broken' },
            action: 'send',
            params: { payload: { text: 'task ${NAME} failed: ${FIELD_error}' } },
          }),
          doc('EventTrigger', 'on-failure', { event: { type: 'tasks', name: 'failed' }, tasks: ['alert'] }),
        ),
      },
    });
    await fixture.engine.runTask('flaky');
    await fixture.engine.whenIdle();
    const logs = readTaskLogs(fixture.dataDir);
    expect(logs.map((l) => [l.task, l.status])).toEqual([
      ['flaky', 'failed'],
      ['alert', 'failed'],
    ]);
    expect(JSON.parse(receiver.requests[1]!.body).text).toBe(
      'task flaky failed: webhook broken: gave up after 1 attempt; last: HTTP 500 Internal Server Error',
    );
  });
});

describe("the engine's events about a run's end", () => {
  it('are stored with the end itself: an alert still fires when storing events on their own fails', async () => {
    receiver = await startReceiver();
    receiver.script({ status: 500 }, { status: 200 });
    fixture = await engineFixture({
      manifests: {
        'all.yaml': docs(
          doc('Webhook', 'hook', { url: `${receiver.url}/hook`, retries: 0 }),
          doc('Task', 'flaky', {
            objectType: 'webhook',
            target: { name: 'hook' },
            action: 'send',
            params: { payload: { a: 1 } },
          }),
          doc('Task', 'alert', {
            objectType: 'webhook',
            target: { name: 'hook' },
            action: 'send',
            params: { payload: { text: 'task ${NAME} failed' } },
          }),
          doc('EventTrigger', 'on-failure', { event: { type: 'tasks', name: 'failed' }, tasks: ['alert'] }),
        ),
      },
    });
    // Every write of events alone now fails: only the run's own end can carry its events.
    fixture.store.addEvents = () => Promise.reject(new Error('disk I/O error'));
    const [run] = await fixture.engine.runTask('flaky');
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir).map((l) => [l.task, l.status])).toEqual([
      ['flaky', 'failed'],
      ['alert', 'succeeded'],
    ]);
    const events = await fixture.store.eventsSince(new Date(0));
    expect(events.map((e) => [e.type, e.name, e.status, e.origin, e.fields.runId])).toEqual([
      ['tasks', 'failed', 'processed', 'engine', run!.runId],
      ['webhooks', 'exhausted', 'processed', 'engine', run!.runId],
    ]);
  });
});

/** RFC 2047 encoded words (=?UTF-8?Q?...?=) as nodemailer writes non-ASCII or special subjects. */
function decodeMimeWords(text: string): string {
  return text
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, q: string) => decodeQuotedPrintable(q.replace(/_/g, ' ')));
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`);
  return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
}
