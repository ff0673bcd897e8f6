import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { readTaskLogs } from '../../src/engine/index.js';
import { engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startVergeosSim, type VergeosSim } from '../helpers/vergeos-sim.js';

const EXAMPLE = path.resolve('examples/vergeos');
const KEY = 'vk_scenario_0123456789';
const GPU = ['gpu-ws-01', 'gpu-ws-02', 'gpu-ws-03'];

let fixture: EngineFixture | undefined;
let sim: VergeosSim | undefined;
afterEach(async () => {
  await fixture?.close();
  await sim?.close();
  fixture = sim = undefined;
});

/** The example's own config, pointed at the simulator. */
function exampleConfig(url: string): Record<string, unknown> {
  const config = parse(readFileSync(path.join(EXAMPLE, 'taskops.config.yaml'), 'utf8')) as {
    drivers: { vms: Record<string, unknown> };
  };
  const { urlFrom: _urlFrom, ...vms } = config.drivers.vms;
  return { ...config, drivers: { vms: { ...vms, url } } };
}

const manifests = () =>
  Object.fromEntries(
    readdirSync(path.join(EXAMPLE, 'manifests')).map((f) => [
      f,
      readFileSync(path.join(EXAMPLE, 'manifests', f), 'utf8'),
    ]),
  );

async function start(now: string) {
  sim = await startVergeosSim();
  sim.apiKeys.set(KEY, {});
  for (const name of [...GPU, 'build-01']) sim.addVm(name);
  sim.tagVms('JThompson-GPU', GPU);
  const f = await engineFixture({
    now,
    manifests: manifests(),
    config: exampleConfig(sim.url),
    driverDeps: { env: { VERGEOS_API_KEY: KEY } },
  });
  // The source's first look (at start) takes the newest log entry and the alarms as its starting point.
  f.clock.advanceBy(0);
  await vi.waitFor(async () => expect(await f.store.getMeta('eventSource.vergeos.logCursor')).toBe('0'));
  return f;
}

const running = () => GPU.map((vm) => sim!.isRunning(vm));

async function logAndPoll(f: EngineFixture, text: string) {
  sim!.addLog({ level: 'audit', text, object_type: 'user', object_name: 'JThompson', user: 'JThompson' });
  const key = String(sim!.tables.logs!.at(-1)!.$key);
  f.clock.advanceBy(30_000);
  await vi.waitFor(async () => expect(await f.store.getMeta('eventSource.vergeos.logCursor')).toBe(key));
  await f.engine.whenIdle();
}

describe('the GPU scenario against VergeOS (examples/vergeos)', () => {
  it('a VergeOS login powers on each VM in the VergeOS tag; the logout powers them off', async () => {
    fixture = await start('2026-11-23T12:00:00Z');
    await logAndPoll(fixture, "User 'JThompson' logged in");
    expect(running()).toEqual([true, true, true]);
    expect(sim!.isRunning('build-01')).toBe(false);
    expect(sim!.vmActions().map((a) => a.action)).toEqual(['poweron', 'poweron', 'poweron']);

    await logAndPoll(fixture, "User 'JThompson' logged out");
    expect(running()).toEqual([false, false, false]);
    const logs = readTaskLogs(fixture.dataDir);
    expect(logs.map((l) => `${l.task} ${l.target.name} ${l.status}`).sort()).toEqual([
      'vergeos-power-off-gpu-vms gpu-ws-01 succeeded',
      'vergeos-power-off-gpu-vms gpu-ws-02 succeeded',
      'vergeos-power-off-gpu-vms gpu-ws-03 succeeded',
      'vergeos-power-on-gpu-vms gpu-ws-01 succeeded',
      'vergeos-power-on-gpu-vms gpu-ws-02 succeeded',
      'vergeos-power-on-gpu-vms gpu-ws-03 succeeded',
    ]);
    expect(logs.every((l) => l.trigger.kind === 'event')).toBe(true);
  });

  it('the Friday 18:00 schedule powers them off; a VM tagged in VergeOS meanwhile is included', async () => {
    fixture = await start('2026-11-27T22:00:00Z'); // Friday 17:00 in New York
    await logAndPoll(fixture, "User 'JThompson' logged in");
    expect(running()).toEqual([true, true, true]);
    sim!.addVm('gpu-ws-04', { running: true });
    sim!.tagVms('JThompson-GPU', ['gpu-ws-04']);

    fixture.clock.advanceTo('2026-11-27T23:00:00Z');
    await vi.waitFor(() => expect(sim!.vmActions().filter((a) => a.action === 'poweroff')).toHaveLength(4));
    await fixture.engine.whenIdle();
    expect([...running(), sim!.isRunning('gpu-ws-04')]).toEqual([false, false, false, false]);
    const friday = readTaskLogs(fixture.dataDir).filter((l) => l.trigger.kind === 'schedule');
    expect(friday.map((l) => l.target.name).sort()).toEqual([...GPU, 'gpu-ws-04']);
    expect(friday.every((l) => l.status === 'succeeded' && l.trigger.name === 'vergeos-friday-6pm')).toBe(
      true,
    );
  });

  it("a 507 delays that VM's run in the store; on the clock its next attempt powers the VM on", async () => {
    fixture = await start('2026-11-23T12:00:00Z');
    sim!.failNext(1, 507, { path: '/api/v4/vm_actions', err: 'Insufficient resources' });
    await fixture.engine.runTask('vergeos-power-on-gpu-vms');
    await fixture.engine.whenIdle();
    const [delayed, ...others] = await fixture.store.listRuns({ status: ['delayed'] });
    expect(others).toHaveLength(0);
    // Backoff of attempt 1 with random 0.5: 500 ms, on the engine's clock (the driver never waited).
    expect(delayed).toMatchObject({ status: 'delayed', attempts: 1 });
    expect(delayed!.nextAttemptAt).toBe(new Date(fixture.clock.now().getTime() + 500).toISOString());
    expect(running().filter(Boolean)).toHaveLength(2);
    fixture.clock.advanceBy(500);
    await vi.waitFor(() => expect(running()).toEqual([true, true, true]));
    await fixture.engine.whenIdle();
    const run = await fixture.store.getRun(delayed!.runId);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(run!.attemptLog.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(run!.attemptLog[0]!.error).toMatch(/507.*insufficient cluster resources/);
    expect((run!.details as { attempts: Array<{ status: number }> }).attempts.map((a) => a.status)).toEqual([
      507, 201,
    ]);
  });

  it('a VergeOS that refuses the key fails each trigger once, visibly, without touching any VM', async () => {
    fixture = await start('2026-11-23T12:00:00Z');
    sim!.apiKeys.clear();
    await fixture.engine.runTask('vergeos-power-on-gpu-vms');
    await fixture.engine.whenIdle();
    const [log] = readTaskLogs(fixture.dataDir);
    expect(log).toMatchObject({ task: 'vergeos-power-on-gpu-vms', status: 'failed' });
    expect(log!.error).toMatch(
      /Tag\/vergeos-JThompson-GPU: its members could not be read: .*401 Unauthorized/,
    );
    expect(JSON.stringify(log)).not.toContain(KEY);
    expect(sim!.vmActions()).toHaveLength(0);
  });
});
