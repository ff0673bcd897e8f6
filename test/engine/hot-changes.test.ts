import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';

let fixture: EngineFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const CONFIG = {
  drivers: {
    jobs: {
      type: 'command',
      actions: { ok: ['node', '-e', 'process.exit(0)'], slow: ['node', '-e', 'setTimeout(() => {}, 700)'] },
    },
  },
};
const task = (name: string, spec: Record<string, unknown>) =>
  doc('Task', name, { objectType: 'jobs', target: { name: 'obj' }, action: 'ok', ...spec });

describe('applying a new revision to a running engine', () => {
  it('reschedules a changed schedule, keeps an unchanged one, and never fires twice', async () => {
    fixture = await engineFixture({
      config: CONFIG,
      now: '2026-11-23T09:30:00Z',
      manifests: {
        'm.yaml': docs(
          doc('Schedule', 'hourly', { cron: '0 * * * *' }),
          doc('Schedule', 'daily', { cron: '0 12 * * *' }),
          task('a', { schedules: ['hourly'] }),
          task('b', { schedules: ['daily'] }),
        ),
      },
    });
    fixture.clock.advanceTo('2026-11-23T10:00:00Z');
    await fixture.engine.whenIdle();
    // Same spec for hourly (re-applied), daily moves from 12:00 to 10:30.
    await fixture.applyManifests({
      'm.yaml': docs(
        doc('Schedule', 'hourly', { cron: '0 * * * *' }),
        doc('Schedule', 'daily', { cron: '30 10 * * *' }),
        task('a', { schedules: ['hourly'] }),
        task('b', { schedules: ['daily'] }),
      ),
    });
    // Step through time so each firing's run starts at its own instant.
    for (
      let t = Date.parse('2026-11-23T10:15:00Z');
      t <= Date.parse('2026-11-23T12:00:00Z');
      t += 15 * 60_000
    ) {
      fixture.clock.advanceTo(t);
      await fixture.engine.whenIdle();
    }
    const fired = readTaskLogs(fixture.dataDir).map((l) => `${l.startedAt.slice(11, 16)} ${l.task}`);
    expect(fired).toEqual(['10:00 a', '10:30 b', '11:00 a', '12:00 a']);
  });

  it('drops removed tasks and triggers, and lets a run in flight finish', async () => {
    fixture = await engineFixture({
      config: CONFIG,
      manifests: {
        'm.yaml': docs(
          task('slow', { action: 'slow' }),
          task('other', {}),
          doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['slow', 'other'] }),
        ),
      },
    });
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    await new Promise((r) => setTimeout(r, 200));
    await fixture.applyManifests({ 'm.yaml': task('other', {}) });
    await fixture.engine.whenIdle();
    await fixture.engine.submitEvent({ type: 'jobs', name: 'go' });
    await fixture.engine.whenIdle();
    const logs = readTaskLogs(fixture.dataDir);
    expect(logs.map((l) => [l.task, l.status]).sort()).toEqual([
      ['other', 'succeeded'],
      ['slow', 'succeeded'],
    ]);
  });
});
