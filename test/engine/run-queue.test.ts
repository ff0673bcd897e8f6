import { describe, expect, it } from 'vitest';
import { LazyAbortController } from '../../src/engine/runs/abort.js';
import { RunQueue, type Job } from '../../src/engine/runs/queue.js';
import { causedRunId, derivedRunId } from '../../src/engine/runs/ids.js';
import type { TaskSpec } from '../../src/manifest/types.js';
import { runRecord } from '../helpers/runs.js';

function job(runId: string, key = runId): Job {
  return {
    run: runRecord(runId),
    spec: { objectType: 'vms', action: 'on' } as TaskSpec,
    event: null,
    key,
    policy: 'allow',
    controller: new LazyAbortController(),
    claimFrom: 'queued',
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('RunQueue', () => {
  it('gives the slot to the next job once the driver is done, while the end is still being recorded', async () => {
    const inDriver = new Set<string>();
    let most = 0;
    const recorded = new Map<string, ReturnType<typeof deferred>>();
    const queue = new RunQueue(
      2,
      async (j, freeSlot) => {
        inDriver.add(j.run.runId);
        most = Math.max(most, inDriver.size);
        await turn();
        inDriver.delete(j.run.runId);
        freeSlot();
        const end = deferred();
        recorded.set(j.run.runId, end);
        await end.promise;
      },
      (_j, err) => {
        throw err;
      },
    );
    const jobs = ['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => job(id));
    for (const j of jobs) {
      expect(queue.reserve(j)).not.toBe('skip');
      queue.commit(j);
    }
    let idle = false;
    void queue.whenIdle().then(() => (idle = true));
    for (let i = 0; i < 10; i++) await turn();
    // Every driver ran (two at a time at most) though no end is recorded yet.
    expect([...recorded.keys()].sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(most).toBe(2);
    // Recording ends is part of the job: not idle, still counted, still known to recovery.
    expect(idle).toBe(false);
    expect(queue.size).toBe(5);
    expect(queue.has('r3')).toBe(true);
    for (const end of recorded.values()) end.resolve();
    await turn();
    expect(idle).toBe(true);
    expect(queue.size).toBe(0);
    expect(queue.has('r3')).toBe(false);
  });

  it('knows a run while it waits, executes or is parked, and forgets it once done', async () => {
    const release = deferred();
    const queue = new RunQueue(
      1,
      async () => release.promise,
      (_j, err) => {
        throw err;
      },
    );
    const [a, b, c] = [job('a'), job('b'), job('c')];
    queue.reserve(a);
    queue.commit(a);
    queue.reserve(b);
    queue.commit(b);
    queue.park(c);
    expect(['a', 'b', 'c', 'd'].map((id) => queue.has(id))).toEqual([true, true, true, false]);
    expect(queue.unpark(c)).toBe(true);
    expect(queue.has('c')).toBe(false);
    release.resolve();
    await queue.whenIdle();
    expect(queue.has('a') || queue.has('b')).toBe(false);
  });

  it('keeps a run known when a job of the same run id is let go twice (a delayed run woken again)', async () => {
    const queue = new RunQueue(
      1,
      async () => undefined,
      (_j, err) => {
        throw err;
      },
    );
    const first = job('same');
    queue.park(first);
    expect(queue.unpark(first)).toBe(true);
    const again = job('same');
    queue.enqueue(again);
    await queue.whenIdle();
    expect(queue.has('same')).toBe(false);
  });
});

describe('run ids derived from their cause', () => {
  it('are 24 hex digits led by the cause instant, the same for the same cause, different otherwise', () => {
    const at = '2026-12-01T18:00:00.000Z';
    const id = causedRunId(at, 'evt_1', 'power-off', 'gpu-1');
    expect(id).toMatch(/^run_[0-9a-f]{24}$/);
    expect(id.slice(4, 15)).toBe(Date.parse(at).toString(16).padStart(11, '0'));
    expect(causedRunId(at, 'evt_1', 'power-off', 'gpu-1')).toBe(id);
    expect(causedRunId(at, 'evt_1', 'power-off', 'gpu-2')).not.toBe(id);
    expect(causedRunId(at, 'evt_2', 'power-off', 'gpu-1')).not.toBe(id);
    expect(causedRunId(at, 'evt_1', 'power-off', null)).not.toBe(id);
    expect(derivedRunId('evt_1', 'power-off', 'gpu-1')).toMatch(/^run_[0-9a-f]{24}$/);
  });

  it('sort by their cause instant, so runs stored together sit together in the index', () => {
    const ids = [0, 1, 2, 3, 60_000, 86_400_000].map((ms) =>
      causedRunId(new Date(Date.parse('2026-12-01T00:00:00Z') + ms).toISOString(), 'x', `t${ms}`, null),
    );
    expect([...ids].sort()).toEqual(ids);
  });

  it('still give an id for an instant that does not parse', () => {
    expect(causedRunId('not a date', 'evt', 'task', null)).toMatch(/^run_0{11}[0-9a-f]{13}$/);
  });
});

describe('concurrency: replace', () => {
  const newQueue = (release: Promise<void>) =>
    new RunQueue(
      4,
      async () => release,
      (_j, err) => {
        throw err;
      },
    );
  const replacing = (runId: string): Job => ({ ...job(runId, 'same-key'), policy: 'replace' });

  it('stops the older run only once the newer one is stored', async () => {
    const release = deferred();
    const queue = newQueue(release.promise);
    const older = replacing('older');
    queue.reserve(older);
    queue.commit(older);
    const newer = replacing('newer');
    expect(queue.reserve(newer)).toBe('start');
    expect(older.controller.aborted).toBe(false);
    queue.commit(newer);
    expect(older.controller.aborted).toBe(true);
    expect(newer.controller.aborted).toBe(false);
    release.resolve();
    await queue.whenIdle();
  });

  it('leaves the older run alone when the newer one was not stored here (another engine stored it first)', async () => {
    const release = deferred();
    const queue = newQueue(release.promise);
    const older = replacing('older');
    queue.reserve(older);
    queue.commit(older);
    const lost = replacing('lost');
    queue.reserve(lost);
    queue.release(lost);
    expect(older.controller.aborted).toBe(false);
    release.resolve();
    await queue.whenIdle();
    expect(queue.has('older')).toBe(false);
  });
});
