import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, type RunRecord, type SlotFiring, type Store } from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';

/** A fresh, empty store for one test, and a second handle on the same data (another engine's connection). */
export interface FiringStoreHandle {
  store: Store;
  /** Another connection to the same data, as a second engine would open it; closed by `dispose`. */
  connect(): Promise<Store>;
  /** Closes every handle and removes the data. */
  dispose(): Promise<void>;
}

const at = (iso: string) => new Date(iso);
const fired = (recordedAt = '2026-06-01T09:00:00Z', catchUp = false) => ({
  outcome: 'fired' as const,
  catchUp,
  recordedAt: at(recordedAt),
});

const slot = (schedule: string, iso: string, over: Partial<SlotFiring> = {}): SlotFiring => ({
  schedule,
  scheduledFor: at(iso),
  outcome: 'fired',
  catchUp: false,
  recordedAt: at(iso),
  ...over,
});
const scheduleRun = (runId: string, iso: string): RunRecord =>
  runRecord(runId, {
    trigger: {
      kind: 'schedule',
      name: 'nightly',
      event: null,
      scheduledFor: at(iso).toISOString(),
      catchUp: false,
    },
  });

/**
 * The firing ledger's contract, written against the Store interface alone: each store implementation
 * calls this with a factory of fresh stores.
 */
export function firingLedgerContract(name: string, open: () => Promise<FiringStoreHandle>): void {
  describe(`${name}: the firing ledger`, () => {
    let handle: FiringStoreHandle;
    let store: Store;
    beforeEach(async () => {
      handle = await open();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.dispose();
    });

    it('records a slot once: the first call wins, a repeat of the same slot loses', async () => {
      expect(await store.recordFiring('nightly', at('2026-06-01T09:00:00Z'), fired())).toBe(true);
      expect(
        await store.recordFiring('nightly', at('2026-06-01T09:00:00Z'), {
          outcome: 'missed',
          catchUp: true,
          recordedAt: at('2026-06-01T09:30:00Z'),
        }),
      ).toBe(false);
      expect(await store.listFirings('nightly')).toEqual([
        {
          schedule: 'nightly',
          scheduledFor: '2026-06-01T09:00:00.000Z',
          outcome: 'fired',
          catchUp: false,
          recordedAt: '2026-06-01T09:00:00.000Z',
        },
      ]);
    });

    it('keeps slots apart by schedule and by instant', async () => {
      expect(await store.recordFiring('a', at('2026-06-01T09:00:00Z'), fired())).toBe(true);
      expect(await store.recordFiring('b', at('2026-06-01T09:00:00Z'), fired())).toBe(true);
      expect(await store.recordFiring('a', at('2026-06-01T09:00:00.001Z'), fired())).toBe(true);
      expect((await store.listFirings()).map((f) => `${f.schedule}@${f.scheduledFor}`)).toEqual([
        'a@2026-06-01T09:00:00.000Z',
        'b@2026-06-01T09:00:00.000Z',
        'a@2026-06-01T09:00:00.001Z',
      ]);
    });

    it('has exactly one winner when many calls race for one slot, across connections', async () => {
      const other = await handle.connect();
      const slot = at('2026-06-01T09:00:00Z');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).recordFiring('race', slot, fired())),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await other.listFirings('race')).toHaveLength(1);
    });

    it('stores the outcome and the catch-up mark of the winner', async () => {
      await store.recordFiring('s', at('2026-06-01T09:00:00Z'), fired('2026-06-01T09:10:00Z', true));
      await store.recordFiring('s', at('2026-06-01T10:00:00Z'), {
        outcome: 'missed',
        catchUp: false,
        recordedAt: at('2026-06-01T11:00:00Z'),
      });
      expect((await store.listFirings('s')).map((f) => [f.outcome, f.catchUp, f.recordedAt])).toEqual([
        ['fired', true, '2026-06-01T09:10:00.000Z'],
        ['missed', false, '2026-06-01T11:00:00.000Z'],
      ]);
    });

    it("gives each schedule's latest slot as its watermark, which never moves back", async () => {
      expect(await store.lastFirings()).toEqual(new Map());
      await store.recordFiring('a', at('2026-06-01T10:00:00Z'), fired());
      await store.recordFiring('b', at('2026-06-01T08:00:00Z'), fired());
      // An earlier slot recorded later (a backward clock jump, a slow engine) leaves the watermark alone.
      await store.recordFiring('a', at('2026-06-01T09:00:00Z'), fired());
      await store.recordFiring('b', at('2026-06-01T12:00:00Z'), {
        outcome: 'missed',
        catchUp: false,
        recordedAt: at('2026-06-01T13:00:00Z'),
      });
      expect(await store.lastFirings()).toEqual(
        new Map([
          ['a', at('2026-06-01T10:00:00Z')],
          ['b', at('2026-06-01T12:00:00Z')],
        ]),
      );
    });

    it('shows every recorded slot to another connection', async () => {
      await store.recordFiring('a', at('2026-06-01T10:00:00Z'), fired());
      const other = await handle.connect();
      expect(await other.recordFiring('a', at('2026-06-01T10:00:00Z'), fired())).toBe(false);
      expect(await other.lastFirings()).toEqual(new Map([['a', at('2026-06-01T10:00:00Z')]]));
    });

    it('stores a slot and its runs in one step; a repeat of the slot stores none of its runs', async () => {
      const nine = '2026-06-01T09:00:00Z';
      const runs = [scheduleRun('r1', nine), scheduleRun('r2', nine)];
      expect(await store.insertRuns(runs, { firing: slot('nightly', nine) })).toEqual([true, true]);
      expect(await store.listFirings('nightly')).toMatchObject([
        { scheduledFor: '2026-06-01T09:00:00.000Z', outcome: 'fired' },
      ]);
      expect(await store.lastFirings()).toEqual(new Map([['nightly', at(nine)]]));
      // A replayed timer, or another engine, with runs of other ids: the slot is taken, nothing is stored.
      const again = [scheduleRun('r3', nine)];
      expect(await store.insertRuns(again, { firing: slot('nightly', nine) })).toEqual([false]);
      expect(await store.getRun('r3')).toBeUndefined();
      expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(['r1', 'r2']);
    });

    it('stores neither the slot nor any run when one of its runs cannot be stored', async () => {
      const nine = '2026-06-01T09:00:00Z';
      // A write that fails in the middle: the second run's details cannot be stored (JSON has no BigInt).
      const broken = { ...scheduleRun('r2', nine), details: { n: 1n } };
      const err = await store
        .insertRuns([scheduleRun('r1', nine), broken], { firing: slot('nightly', nine) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(await store.listFirings()).toEqual([]);
      expect(await store.lastFirings()).toEqual(new Map());
      expect(await store.getRun('r1')).toBeUndefined();
      // The slot is still free: the retry stores it with its runs.
      expect(await store.insertRuns([scheduleRun('r1', nine)], { firing: slot('nightly', nine) })).toEqual([
        true,
      ]);
      expect(await store.listFirings('nightly')).toHaveLength(1);
    });

    it('records a slot that starts no run (no task, or a missed one) with an empty run list', async () => {
      expect(
        await store.insertRuns([], { firing: slot('idle', '2026-06-01T09:00:00Z', { outcome: 'missed' }) }),
      ).toEqual([]);
      expect(await store.listFirings('idle')).toMatchObject([{ outcome: 'missed' }]);
      expect(await store.recordFiring('idle', at('2026-06-01T09:00:00Z'), fired())).toBe(false);
    });

    it('stores the runs of exactly one of many engines racing for a slot, across connections', async () => {
      const other = await handle.connect();
      const nine = '2026-06-01T09:00:00Z';
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).insertRuns([scheduleRun(`r${i}`, nine)], { firing: slot('race', nine) }),
        ),
      );
      expect(results.filter(([won]) => won)).toHaveLength(1);
      expect(await other.listRuns()).toHaveLength(1);
      expect(await store.listFirings('race')).toHaveLength(1);
    });

    it('prunes slots older than the retention cutoff and keeps every watermark', async () => {
      for (const iso of ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-06-01T00:00:00Z'])
        await store.recordFiring('busy', at(iso), fired());
      await store.recordFiring('rare', at('2026-01-15T00:00:00Z'), fired());
      const removed = await store.pruneActivity(at('2026-05-01T00:00:00Z'));
      expect(removed).toBe(3);
      expect((await store.listFirings()).map((f) => `${f.schedule}@${f.scheduledFor}`)).toEqual([
        'busy@2026-06-01T00:00:00.000Z',
      ]);
      expect(await store.lastFirings()).toEqual(
        new Map([
          ['busy', at('2026-06-01T00:00:00Z')],
          ['rare', at('2026-01-15T00:00:00Z')],
        ]),
      );
      expect(await store.recordFiring('busy', at('2026-06-01T00:00:00Z'), fired())).toBe(false);
    });
  });
}
