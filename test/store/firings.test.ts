import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, openStore, STORE_FILE } from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';

// The ledger's contract runs in the store contract suite (sqlite.contract.test.ts).

describe('SqliteStore firing ledger, SQLite specifics', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('turns the schedule.lastFired meta keys of an older data dir into ledger slots', async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-firings-'));
    const db = new Database(join(dir, STORE_FILE));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)');
    db.exec(MIGRATIONS[0]!);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(
      'schedule.lastFired.friday-6pm',
      '2026-11-27T23:00:00.000Z',
    );
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('other', 'kept');
    db.close();

    const store = await openStore(dir);
    expect(await store.lastFirings()).toEqual(new Map([['friday-6pm', new Date('2026-11-27T23:00:00Z')]]));
    expect(await store.getMeta('schedule.lastFired.friday-6pm')).toBeUndefined();
    expect(await store.getMeta('other')).toBe('kept');
    expect(
      await store.recordFiring('friday-6pm', new Date('2026-11-27T23:00:00Z'), {
        outcome: 'fired',
        catchUp: false,
        recordedAt: new Date(),
      }),
    ).toBe(false);
    await store.close();
  });

  it("stores a schedule run's slot and catch-up mark, and leaves other triggers' shape alone", async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskops-firings-'));
    const store = await openStore(dir);
    const trigger = {
      kind: 'schedule' as const,
      name: 'nightly',
      event: null,
      scheduledFor: '2026-06-01T09:00:00.000Z',
      catchUp: true,
    };
    await store.insertRun(runRecord('sched', { trigger }));
    await store.insertRun(runRecord('manual'));
    expect((await store.getRun('sched'))!.trigger).toEqual(trigger);
    expect((await store.getRun('manual'))!.trigger).toEqual({ kind: 'manual', name: null, event: null });
    await store.close();
  });
});
