import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { until } from '../helpers/wait.js';

let fixture: EngineFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** A command driver whose action sleeps for the given seconds (no shell: argv only). */
const SLEEPER = {
  drivers: {
    jobs: {
      type: 'command',
      actions: {
        sleep: ['node', '-e', 'setTimeout(() => {}, Number(process.argv[1]) * 1000)', '${FIELD_seconds}'],
        ok: ['node', '-e', 'process.exit(0)'],
      },
    },
  },
};

const task = (name: string, spec: Record<string, unknown> = {}) =>
  doc('Task', name, { objectType: 'jobs', target: { name: 'job-1' }, action: 'sleep', ...spec });
const trigger = (
  name: string,
  tasks: string[],
  event: Record<string, unknown> = { type: 'jobs', name: 'go' },
) => doc('EventTrigger', name, { event, tasks });

describe('runs', () => {
  it('runs a task once per event even when several triggers select it', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: {
        'm.yaml': docs(
          task('t', { action: 'ok' }),
          trigger('a', ['t']),
          trigger('b', ['t'], { type: 'jobs', name: 'go', object: 'x' }),
        ),
      },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go', object: 'x' });
    await fixture.engine.whenIdle();
    const runs = readTaskLogs(fixture.dataDir).filter((l) => l.task === 't');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.trigger.name).toBe('a');
  });

  it('matches where fields and tag membership', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: {
        'm.yaml': docs(
          doc('Tag', 'critical', { category: 'alarms', members: ['disk-full'] }),
          task('t', { action: 'ok' }),
          trigger('sev', ['t'], {
            type: 'alarms',
            name: 'raised',
            tag: 'critical',
            where: { severity: 'error' },
          }),
        ),
      },
    });
    await fixture.engine.submitEvent({
      type: 'alarms',
      name: 'raised',
      object: 'disk-full',
      fields: { severity: 'warning' },
    });
    await fixture.engine.submitEvent({
      type: 'alarms',
      name: 'raised',
      object: 'cpu-hot',
      fields: { severity: 'error' },
    });
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir).filter((l) => l.task === 't')).toHaveLength(0);
    await fixture.engine.submitEvent({
      type: 'alarms',
      name: 'raised',
      object: 'disk-full',
      fields: { severity: 'error' },
    });
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir).filter((l) => l.task === 't')).toHaveLength(1);
  });

  it('skips a new run while one is going with concurrency: forbid', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: { 'm.yaml': docs(task('t'), trigger('go', ['t'])) },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go', fields: { seconds: 1 } });
    await new Promise((r) => setTimeout(r, 200)); // let the first run start its process
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go', fields: { seconds: 0 } });
    await fixture.engine.whenIdle();
    const runs = readTaskLogs(fixture.dataDir).filter((l) => l.task === 't');
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r) => r.status === 'skipped')!.error).toContain('concurrency: forbid');
  });

  it('stops the running run for the new one with concurrency: replace', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: { 'm.yaml': docs(task('t', { concurrency: 'replace' }), trigger('go', ['t'])) },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go', fields: { seconds: 30 } });
    await new Promise((r) => setTimeout(r, 200));
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go', fields: { seconds: 0 } });
    await fixture.engine.whenIdle();
    const runs = readTaskLogs(fixture.dataDir).filter((l) => l.task === 't');
    expect(runs.map((r) => r.status).sort()).toEqual(['failed', 'succeeded']);
    expect(runs.find((r) => r.status === 'failed')!.error).toContain('replaced by a newer run');
  });

  it('fails a run that outlives its timeoutSeconds, counted on the engine clock', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: { 'm.yaml': docs(task('t', { timeoutSeconds: 1 }), trigger('go', ['t'])) },
    });
    const f = fixture;
    await f.engine.submitEvent({ type: 'jobs', name: 'go', fields: { seconds: 30 } });
    await until(async () => (await f.store.listRuns({ status: ['running'] })).length > 0, 'the run to start');
    await new Promise((r) => setTimeout(r, 100)); // real time passes; the clock does not
    expect((await f.store.listRuns({ status: ['running'] })).length).toBe(1);
    f.clock.advanceBy(999);
    await new Promise((r) => setTimeout(r, 50));
    expect((await f.store.listRuns({ status: ['running'] })).length).toBe(1);
    f.clock.advanceBy(1);
    await f.engine.whenIdle();
    const [run] = readTaskLogs(fixture.dataDir).filter((l) => l.task === 't');
    expect(run!.status).toBe('failed');
    expect(run!.error).toContain('timed out after 1s');
  });

  it('retires a deleteAfterRun task after its first success', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: {
        'm.yaml': docs(task('once', { action: 'ok', deleteAfterRun: true }), trigger('go', ['once'])),
      },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    await fixture.engine.whenIdle();
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir).filter((l) => l.task === 'once')).toHaveLength(1);
    expect((await fixture.store.getObject('Task', 'once'))!.retiredAt).not.toBeNull();
    await expect(fixture.engine.runTask('once')).rejects.toThrow('retired after its run');
    const audit = readdirSync(path.join(fixture.dataDir, 'logs')).filter((f) => f.startsWith('audit-'));
    const lines = audit.flatMap((f) =>
      readFileSync(path.join(fixture!.dataDir, 'logs', f), 'utf8')
        .trim()
        .split('\n'),
    );
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      action: 'delete',
      kind: 'Task',
      name: 'once',
      reason: 'deleteAfterRun',
    });
  });

  it('runs a deleteAfterRun task on every member of its tag before retiring it once', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: {
        'm.yaml': docs(
          doc('Tag', 'group', { category: 'jobs', members: ['a', 'b', 'c'] }),
          doc('Task', 'once', {
            objectType: 'jobs',
            target: { tag: 'group' },
            action: 'ok',
            deleteAfterRun: true,
          }),
          trigger('go', ['once']),
        ),
      },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    await fixture.engine.whenIdle();
    const runs = readTaskLogs(fixture.dataDir).filter((l) => l.task === 'once');
    expect(runs.map((r) => [r.target.name, r.status]).sort()).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ]);
    const audit = readdirSync(path.join(fixture.dataDir, 'logs')).filter((f) => f.startsWith('audit-'));
    const retirements = audit
      .flatMap((f) =>
        readFileSync(path.join(fixture!.dataDir, 'logs', f), 'utf8')
          .trim()
          .split('\n'),
      )
      .filter((l) => l.includes('deleteAfterRun'));
    expect(retirements).toHaveLength(1);
  });

  it('does not fire a disabled task from events or schedules', async () => {
    fixture = await engineFixture({
      config: SLEEPER,
      manifests: {
        'm.yaml': docs(
          doc('Schedule', 'hourly', { cron: '0 * * * *' }),
          task('off', { action: 'ok', enabled: false, schedules: ['hourly'] }),
          trigger('go', ['off']),
        ),
      },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    fixture.clock.advanceBy(2 * 3600_000);
    await fixture.engine.whenIdle();
    expect(readTaskLogs(fixture.dataDir)).toEqual([]);
  });
});
