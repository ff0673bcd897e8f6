import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VergeosClient } from '../../../src/engine/drivers/index.js';
import { VergeosEventSource } from '../../../src/engine/drivers/vergeos-events.js';
import { ManualClock, type EventInput } from '../../../src/engine/index.js';
import { silentLogger } from '../../../src/engine/types.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { startVergeosSim, type VergeosSim } from '../../helpers/vergeos-sim.js';

const KEY = 'vk_events_0123456789';
let sim: VergeosSim;
let store: Store;
let client: VergeosClient;
let submitted: EventInput[];

beforeEach(async () => {
  sim = await startVergeosSim();
  sim.apiKeys.set(KEY, {});
  store = await openStore(path.join(mkdtempSync(path.join(tmpdir(), 'taskops-vergeos-')), 'data'));
  client = new VergeosClient(
    { type: 'vergeos', url: sim.url, auth: { tokenFrom: { env: 'K' } } },
    { env: { K: KEY } },
  );
  submitted = [];
});
afterEach(async () => {
  await client.close();
  await store.close();
  await sim.close();
});

function source(
  opts: {
    clock?: ManualClock;
    beforeSubmit?(event: EventInput): Promise<void> | undefined;
    rules?: Array<{
      objectType: string;
      text: string;
      level?: string;
      event: { type: string; name: string };
    }>;
    failSubmit?: boolean;
  } = {},
) {
  return new VergeosEventSource({
    name: 'vergeos',
    client,
    config: { type: 'vergeos', driver: 'vms', ...(opts.rules ? { rules: opts.rules } : {}) },
    pollIntervalMs: 30_000,
    store,
    clock: opts.clock ?? new ManualClock(),
    log: silentLogger,
    submit: async (event) => {
      if (opts.failSubmit) throw new Error('store refused the event');
      await opts.beforeSubmit?.(event);
      submitted.push(event);
    },
  });
}

describe('VergeOS event source', () => {
  it('drops a log entry whose object name holds control characters (the API refuses such events too)', async () => {
    const s = source();
    await s.pollOnce();
    sim.addLog({
      level: 'audit',
      text: "User 'x' logged in",
      object_type: 'user',
      object_name: 'vm\u001b]0;pwned\u0007',
      user: 'x\u001b[2J',
    });
    sim.addLog({ level: 'audit', text: "User 'ok' logged in", object_type: 'user', object_name: 'ok' });
    expect(await s.pollOnce()).toBe(1);
    expect(submitted.map((e) => e.object)).toEqual(['ok']);
    expect(await store.getMeta('eventSource.vergeos.logCursor')).toBe(String(sim.tables.logs!.at(-1)!.$key));
    sim.tables.alarms!.push({ $key: 8, level: 'critical', owner_type: 'nodes', owner_name: 'n\u009b1m' });
    expect(await s.pollOnce()).toBe(0);
    expect(submitted).toHaveLength(1);
  });

  it('starts after the newest log entry: history is not replayed', async () => {
    sim.addLog({ level: 'audit', text: "User 'old' logged in", object_type: 'user', object_name: 'old' });
    const s = source();
    expect(await s.pollOnce()).toBe(0);
    sim.addLog({
      level: 'audit',
      text: "User 'JThompson' logged in",
      object_type: 'user',
      object_name: 'JThompson',
    });
    expect(await s.pollOnce()).toBe(1);
    expect(submitted[0]).toMatchObject({
      type: 'users',
      name: 'login',
      object: 'JThompson',
      fields: { level: 'audit', logKey: '2' },
    });
  });

  it('maps VM power, sync errors and updates; ignores what no rule matches', async () => {
    const s = source();
    await s.pollOnce();
    sim.addLog({
      level: 'audit',
      text: 'VM powered off by admin',
      object_type: 'vm',
      object_name: 'gpu-ws-01',
    });
    sim.addLog({
      level: 'error',
      text: 'Site sync to DR failed: timeout',
      object_type: 'site',
      object_name: 'dr-site',
    });
    sim.addLog({
      level: 'message',
      text: 'System update complete',
      object_type: 'updates',
      object_name: 'system',
    });
    sim.addLog({ level: 'message', text: 'Snapshot taken', object_type: 'vm', object_name: 'gpu-ws-01' });
    await s.pollOnce();
    expect(submitted.map((e) => `${e.type}/${e.name} ${e.object}`)).toEqual([
      'vms/power-off gpu-ws-01',
      'syncs/error dr-site',
      'system/update-complete system',
    ]);
  });

  it("the config's rules come first", async () => {
    const s = source({
      rules: [{ objectType: 'vm', text: 'snapshot', event: { type: 'vms', name: 'snapshot' } }],
    });
    await s.pollOnce();
    sim.addLog({ level: 'message', text: 'Snapshot taken', object_type: 'vm', object_name: 'gpu-ws-01' });
    await s.pollOnce();
    expect(submitted.map((e) => `${e.type}/${e.name}`)).toEqual(['vms/snapshot']);
  });

  it('keeps its interval on the clock: an interval that passes while a poll runs gets its own look after it', async () => {
    const clock = new ManualClock('2026-11-23T12:00:00Z');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = source({ clock, beforeSubmit: (e) => (e.object === 'first' ? gate : undefined) });
    await s.pollOnce(); // the starting point
    sim.addLog({ level: 'audit', text: "User 'first' logged in", object_type: 'user', object_name: 'first' });
    s.start();
    clock.advanceBy(0); // the first look starts, and waits while storing 'first'…
    await vi.waitFor(() => expect(sim.requests.filter((r) => r.path === '/api/v4/logs')).toHaveLength(2));
    clock.advanceBy(30_000); // …while the next interval passes
    sim.addLog({
      level: 'audit',
      text: "User 'second' logged in",
      object_type: 'user',
      object_name: 'second',
    });
    release();
    await vi.waitFor(() => expect(submitted.map((e) => e.object)).toEqual(['first', 'second']));
    await s.stop();
  });

  it('turns alarms that appear into alarms/raised and those that go into alarms/lowered', async () => {
    const s = source();
    await s.pollOnce();
    sim.tables.alarms!.push({
      $key: 7,
      level: 'critical',
      status: 'Node offline',
      alarm_id: 'ab12cd34',
      owner_type: 'nodes',
      owner_name: 'node1',
    });
    await s.pollOnce();
    sim.tables.alarms!.length = 0;
    await s.pollOnce();
    expect(submitted.map((e) => `${e.type}/${e.name} ${e.object} ${String(e.fields?.level)}`)).toEqual([
      'alarms/raised node1 critical',
      'alarms/lowered node1 critical',
    ]);
  });

  it('at least once: when an event cannot be stored, the cursor stays and the next poll delivers it', async () => {
    await source().pollOnce();
    sim.addLog({
      level: 'audit',
      text: "User 'JThompson' logged out",
      object_type: 'user',
      object_name: 'JThompson',
    });
    await expect(source({ failSubmit: true }).pollOnce()).rejects.toThrow(/store refused/);
    expect(await source().pollOnce()).toBe(1);
    expect(submitted.map((e) => e.name)).toEqual(['logout']);
  });

  it('reads logs after its cursor with a $key filter, sorted, with the log fields', async () => {
    const s = source();
    await s.pollOnce();
    await s.pollOnce();
    const logs = sim.requests.filter((r) => r.path === '/api/v4/logs');
    expect(logs.at(-1)!.query).toMatchObject({ filter: '$key gt 0', sort: '+$key' });
    expect(logs.at(-1)!.query.fields).toContain('object_type');
  });
});
