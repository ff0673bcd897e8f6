import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError, type SqliteStore } from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';

const AT = new Date('2026-03-01T10:00:00Z');
const event = (id: string) => ({
  id,
  type: 'jobs',
  name: 'go',
  object: null,
  fields: {},
  at: AT.toISOString(),
});
const claim = { owner: 'me', at: AT, leaseUntil: new Date(AT.getTime() + 15_000), delivery: null };
const outcome = {
  status: 'succeeded' as const,
  at: AT,
  durationMs: 1,
  attempt: { attempt: 1, at: AT.toISOString(), durationMs: 1, outcome: 'succeeded' as const },
  error: null,
  details: null,
  acted: true,
};

describe('SqliteStore group commit', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-group-'));
    store = await openStore(join(dir, 'data'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("tells a finish's onRecorded right after the commit, before any write of the group settles", async () => {
    await store.insertRuns([runRecord('a'), runRecord('b')]);
    await Promise.all([store.claimRun('a', 'queued', claim), store.claimRun('b', 'queued', claim)]);
    const order: string[] = [];
    const reader = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    const seenByReader: unknown[] = [];
    const claimed = store.insertRuns([runRecord('c')]).then(() => order.push('insert settled'));
    const a = store
      .finishRun('a', 'me', {
        ...outcome,
        onRecorded: (run) => {
          order.push(`recorded ${run.runId}`);
          // Committed already: another connection sees the end.
          seenByReader.push(reader.prepare('SELECT status FROM runs WHERE run_id = ?').get('a'));
        },
      })
      .then(() => order.push('a settled'));
    const lost = store
      .finishRun('b', 'someone else', { ...outcome, onRecorded: () => order.push('recorded b') })
      .then((r) => order.push(`b settled ${String(r)}`));
    await Promise.all([claimed, a, lost]);
    reader.close();
    expect(order).toEqual(['recorded a', 'insert settled', 'a settled', 'b settled null']);
    expect(seenByReader).toEqual([{ status: 'succeeded' }]);
  });

  it('puts a task-log mark into the next group another write starts, adding no commit of its own', async () => {
    await store.insertRuns([runRecord('a'), runRecord('b')]);
    await store.claimRun('a', 'queued', claim);
    await store.finishRun('a', 'me', outcome);
    const before = store.groupCommitStats();
    const marked = store.markLogged(['a']);
    // The next write's group carries the mark: one commit for both.
    await store.claimRun('b', 'queued', claim);
    await marked;
    const after = store.groupCommitStats();
    expect(after.commits - before.commits).toBe(1);
    expect(after.writes - before.writes).toBe(2);
    expect(await store.logUnlogged(new Date('2027-01-01T00:00:00Z'), 10, () => undefined)).toBe(0);
  });

  it('commits a task-log mark alone when no other write comes within its delay', async () => {
    await store.insertRuns([runRecord('a')]);
    await store.claimRun('a', 'queued', claim);
    await store.finishRun('a', 'me', outcome);
    const before = store.groupCommitStats();
    await store.markLogged(['a']);
    expect(store.groupCommitStats().commits - before.commits).toBe(1);
    const reader = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    try {
      expect(reader.prepare("SELECT logged FROM runs WHERE run_id = 'a'").get()).toEqual({ logged: 1 });
    } finally {
      reader.close();
    }
  });

  it('commits the run writes asked for in one turn in one transaction, each a compare-and-set', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.addEvent(event(`evt-${i}`))));
    const before = store.groupCommitStats();
    const inserted = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store.insertRuns([runRecord(`run-${i}`)], { processedEvent: `evt-${i}` }),
      ),
    );
    expect(inserted.flat()).toEqual(Array(100).fill(true));
    // The same 100 claims again in one turn: the first wins each, the second finds it running.
    const claims = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.claimRun(`run-${i % 100}`, 'queued', claim)),
    );
    expect(claims.filter((c) => c !== null).length).toBe(100);
    const finished = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.finishRun(`run-${i}`, 'me', outcome)),
    );
    expect(finished.every((r) => r?.status === 'succeeded')).toBe(true);
    const after = store.groupCommitStats();
    expect(after.writes - before.writes).toBe(400);
    expect(after.commits - before.commits).toBe(3);
    expect((await store.pendingEvents()).length).toBe(0);
  });

  it('settles a write only once it is committed: another connection sees it by then', async () => {
    const other = new Database(join(dir, 'data', 'taskops.db'), { readonly: true });
    try {
      const count = () => (other.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
      const pending = store.insertRun(runRecord('run-1'));
      expect(count()).toBe(0);
      expect(await pending).toBe(true);
      expect(count()).toBe(1);
    } finally {
      other.close();
    }
  });

  it('fails only the write that fails, and the others of its group are stored', async () => {
    await store.addEvent(event('evt-1'));
    const results = await Promise.allSettled([
      store.insertRuns([runRecord('run-a')], { processedEvent: 'evt-1' }),
      // No such event: this write, its run with it, is rolled back alone.
      store.insertRuns([runRecord('run-b')], { processedEvent: 'evt-missing' }),
      store.insertRun(runRecord('run-c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failure = (results[1] as PromiseRejectedResult).reason as StoreError;
    expect(failure).toBeInstanceOf(StoreError);
    expect(failure.message).toContain('evt-missing');
    expect(await store.getRun('run-a')).toBeDefined();
    expect(await store.getRun('run-b')).toBeUndefined();
    expect(await store.getRun('run-c')).toBeDefined();
  });

  it('lets any other call see the writes asked for before it, awaited or not', async () => {
    void store.insertRun(runRecord('run-1'));
    expect((await store.getRun('run-1'))?.status).toBe('queued');
    const write = store.claimRun('run-1', 'queued', claim);
    expect((await store.listRuns({ status: ['running'] })).map((r) => r.runId)).toEqual(['run-1']);
    expect((await write)?.owner).toBe('me');
  });
});
