import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTaskLogs, TaskLogWriter } from '../../src/engine/index.js';
import type { RunRecord } from '../../src/store/types.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { runRecord } from '../helpers/runs.js';

const finished = (runId: string, startedAt: string): RunRecord =>
  runRecord(runId, {
    task: 't',
    status: 'succeeded',
    target: { objectType: 'jobs', name: 'job-1' },
    queuedAt: startedAt,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    attempts: 1,
    details: { output: 'x'.repeat(200) },
  });

const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n');

describe('task log writer', () => {
  let dataDir: string;
  let writer: TaskLogWriter;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'taskops-tasklog-'));
    writer = new TaskLogWriter(dataDir);
  });
  afterEach(() => {
    writer.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends a line a crash tore before its next append: the torn line alone is skipped by readers', () => {
    const file = path.join(dataDir, 'logs', 'runs-2026-11-23.jsonl');
    appendFileSync(file, JSON.stringify({ runId: 'whole' }).slice(0, 12));
    writer.append(finished('after', '2026-11-23T10:00:00.000Z'));
    writer.close();
    expect(linesOf(file)[0]).toBe('{"runId":"wh');
    expect(readTaskLogs(dataDir).map((l) => l.runId)).toEqual(['after']);
  });

  it('writes whole lines into each UTC day file across midnight, and back again for a late run', () => {
    writer.append(finished('r1', '2026-11-23T23:59:59.998Z'));
    writer.append(finished('r2', '2026-11-23T23:59:59.999Z'));
    writer.append(finished('r3', '2026-11-24T00:00:00.000Z'));
    // A run that started before midnight and finished after it belongs to its start day.
    writer.append(finished('r4', '2026-11-23T23:59:59.999Z'));
    writer.append(finished('r5', '2026-11-24T00:00:01.000Z'));
    expect(readdirSync(writer.dir).sort()).toEqual(['runs-2026-11-23.jsonl', 'runs-2026-11-24.jsonl']);
    const day1 = linesOf(path.join(writer.dir, 'runs-2026-11-23.jsonl'));
    const day2 = linesOf(path.join(writer.dir, 'runs-2026-11-24.jsonl'));
    expect(day1.at(-1)).toBe('');
    expect(day2.at(-1)).toBe('');
    expect(day1.slice(0, -1).map((l) => JSON.parse(l).runId)).toEqual(['r1', 'r2', 'r4']);
    expect(day2.slice(0, -1).map((l) => JSON.parse(l).runId)).toEqual(['r3', 'r5']);
    expect(readTaskLogs(dataDir).map((l) => l.runId)).toEqual(['r1', 'r2', 'r4', 'r3', 'r5']);
  });

  it('appends to what is already in the day file, and reopens it after close', () => {
    writer.append(finished('r1', '2026-11-23T10:00:00.000Z'));
    writer.close();
    const again = new TaskLogWriter(dataDir);
    again.append(finished('r2', '2026-11-23T11:00:00.000Z'));
    again.close();
    writer.append(finished('r3', '2026-11-23T12:00:00.000Z'));
    expect(readTaskLogs(dataDir).map((l) => l.runId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('does not lose lines into a day file that retention removed while it was open', () => {
    writer.append(finished('r1', '2026-10-01T10:00:00.000Z'));
    expect(writer.prune(new Date('2026-11-23T00:00:00Z'), 30)).toEqual(['runs-2026-10-01.jsonl']);
    writer.append(finished('r2', '2026-10-01T11:00:00.000Z'));
    expect(readTaskLogs(dataDir).map((l) => l.runId)).toEqual(['r2']);
  });
});

describe('task log of a running engine', () => {
  let fixture: EngineFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('starts the next day file when the clock passes midnight UTC', async () => {
    fixture = await engineFixture({
      now: '2026-11-23T23:59:59Z',
      config: { drivers: { jobs: { type: 'noop', actions: { ok: ['unused'] } } } },
      manifests: {
        'm.yaml': docs(
          doc('Task', 't', {
            objectType: 'jobs',
            target: { name: 'job-1' },
            action: 'ok',
            concurrency: 'allow',
          }),
        ),
      },
    });
    await fixture.engine.runTask('t');
    await fixture.engine.whenIdle();
    fixture.clock.advanceTo('2026-11-24T00:00:01Z');
    await fixture.engine.runTask('t');
    await fixture.engine.runTask('t');
    await fixture.engine.whenIdle();
    const logs = path.join(fixture.dataDir, 'logs');
    expect(
      readdirSync(logs)
        .filter((f) => f.startsWith('runs-'))
        .sort(),
    ).toEqual(['runs-2026-11-23.jsonl', 'runs-2026-11-24.jsonl']);
    expect(linesOf(path.join(logs, 'runs-2026-11-23.jsonl'))).toHaveLength(2);
    expect(linesOf(path.join(logs, 'runs-2026-11-24.jsonl'))).toHaveLength(3);
    expect(readTaskLogs(fixture.dataDir).map((l) => [l.startedAt, l.status])).toEqual([
      ['2026-11-23T23:59:59.000Z', 'succeeded'],
      ['2026-11-24T00:00:01.000Z', 'succeeded'],
      ['2026-11-24T00:00:01.000Z', 'succeeded'],
    ]);
  });
});
