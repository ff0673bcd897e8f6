/**
 * The Store contract: what every store (SQLite now, PostgreSQL later) must do, written against the `Store`
 * interface alone. A store's test file calls `describeStoreContract(name, factory)`.
 *
 * Sections: objects and generations, meta, events, run transitions and their losers, leases and expiry,
 * listing and retention, two connections on one store. The schedule firing ledger and the persisted sync
 * status add their own sections at the end (see the marked place), with the same factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  contentHash,
  StoreError,
  type EngineEvent,
  type ObjectContent,
  type RunAttempt,
  type RunFilter,
  type RunRecord,
  type Store,
} from '../../src/store/index.js';
import { runRecord } from '../helpers/runs.js';
import { firingLedgerContract } from './firings.contract.js';
import { keptAudits } from '../helpers/audit.js';

export interface StoreUnderTest {
  store: Store;
  /** Another connection to the same store, as a second engine process would have. */
  connect(): Promise<Store>;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

const AT = new Date('2026-03-01T10:00:00Z');
const at = (offsetMs: number) => new Date(AT.getTime() + offsetMs);
const LEASE = 30_000;

function tag(name: string, members: string[] = ['a']): ObjectContent {
  const metadata = { name, labels: {} };
  const spec = { category: 'vms', members };
  return { kind: 'Tag', name, metadata, spec, hash: contentHash(metadata, spec) };
}

function event(id: string, over: Partial<EngineEvent> = {}): EngineEvent {
  return {
    id,
    type: 'users',
    name: 'login',
    object: 'JT',
    fields: { n: 1, ok: true },
    at: AT.toISOString(),
    ...over,
  };
}

const attempt = (n: number, outcome: RunAttempt['outcome'], error?: string): RunAttempt => ({
  attempt: n,
  at: AT.toISOString(),
  durationMs: 5,
  outcome,
  ...(error ? { error } : {}),
});

/** r0 → 0, r1 → 1, …: a distinct time per run. */
const i0 = (id: string) => Number(id.slice(1));

const claim = (owner: string, when = AT) => ({
  owner,
  at: when,
  leaseUntil: new Date(when.getTime() + LEASE),
});

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    const others: Store[] = [];
    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await subject.cleanup();
    });
    const connect = async () => {
      const other = await subject.connect();
      others.push(other);
      return other;
    };

    describe('objects and generations', () => {
      it('applies creates, updates and deletes in one call, records the revision and moves the generation', async () => {
        await store.applyWrites(
          [
            { action: 'create', object: tag('t1') },
            { action: 'create', object: tag('t2') },
          ],
          'r1',
          AT,
        );
        expect(await store.generation()).toBe(1);
        await store.applyWrites(
          [
            { action: 'update', object: tag('t1', ['b']) },
            { action: 'delete', kind: 'Tag', name: 't2' },
          ],
          'r2',
          at(86_400_000),
        );
        const objects = await store.listObjects();
        expect(objects).toHaveLength(1);
        expect(objects[0]).toMatchObject({
          name: 't1',
          managedBy: 'taskops',
          revision: 'r2',
          spec: { members: ['b'] },
        });
        expect(objects[0]?.appliedHash).toBe(objects[0]?.hash);
        expect(await store.getAppliedRevision()).toEqual({
          revision: 'r2',
          appliedAt: '2026-03-02T10:00:00.000Z',
        });
        expect(await store.generation()).toBe(2);
      });

      it('records the applied revision of an empty write set without moving the generation', async () => {
        await store.applyWrites([], 'r1', AT);
        expect(await store.getAppliedRevision()).toMatchObject({ revision: 'r1' });
        expect(await store.generation()).toBe(0);
      });

      it('refuses a stale plan when the generation moved since it was read, changing nothing', async () => {
        await store.putObjectByHand(tag('by-hand'), AT);
        const err = await store
          .applyWrites([{ action: 'create', object: tag('t1') }], 'r1', AT, { expectGeneration: 0 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe('stale-plan');
        expect(await store.getObject('Tag', 't1')).toBeUndefined();
      });

      it('marks objects made by hand as managed by the api, and a hand edit of a taskops object as drift', async () => {
        await store.putObjectByHand(tag('mine'), AT);
        expect(await store.getObject('Tag', 'mine')).toMatchObject({
          managedBy: 'api',
          revision: null,
          appliedHash: null,
        });
        await store.applyWrites([{ action: 'create', object: tag('t1') }], 'r1', AT);
        const applied = await store.getObject('Tag', 't1');
        await store.putObjectByHand(tag('t1', ['edited']), AT);
        const edited = await store.getObject('Tag', 't1');
        expect(edited).toMatchObject({ managedBy: 'taskops', revision: 'r1', appliedHash: applied?.hash });
        expect(edited?.hash).not.toBe(applied?.hash);
      });

      it('retires a task, moving the generation, and refuses to retire one that does not exist', async () => {
        const metadata = { name: 'once' };
        const spec = { objectType: 'vms', action: 'power-on', deleteAfterRun: true };
        const object = {
          kind: 'Task' as const,
          name: 'once',
          metadata,
          spec,
          hash: contentHash(metadata, spec),
        };
        await store.applyWrites([{ action: 'create', object }], 'r1', AT);
        const before = await store.generation();
        await store.retireTask('once', AT);
        expect((await store.getObject('Task', 'once'))?.retiredAt).toBe(AT.toISOString());
        expect(await store.generation()).toBeGreaterThan(before);
        const err = await store.retireTask('nope', AT).catch((e: unknown) => e);
        expect((err as StoreError).code).toBe('not-found');
      });

      it('keeps a spec given as its JSON text, creating and updating, and lists it back as that spec', async () => {
        const metadata = { name: 'as-text' };
        const spec = { category: 'vms', members: ['b', 'a'], note: 'x"y' };
        const object = { kind: 'Tag' as const, name: 'as-text', metadata, hash: contentHash(metadata, spec) };
        await store.applyWrites([{ action: 'create', object, specJson: JSON.stringify(spec) }], 'r1', AT);
        expect((await store.getObject('Tag', 'as-text'))?.spec).toEqual(spec);
        const changed = { ...spec, members: ['c'] };
        const updated = { ...object, hash: contentHash(metadata, changed) };
        await store.applyWrites(
          [{ action: 'update', object: updated, specJson: JSON.stringify(changed) }],
          'r2',
          AT,
        );
        const live = await store.getObject('Tag', 'as-text');
        expect(live?.spec).toEqual(changed);
        expect(live?.hash).toBe(contentHash(metadata, changed));
        expect((await store.listObjectSpecs()).find((o) => o.name === 'as-text')?.spec).toEqual(changed);
      });
      it("keeps a change's audit lines in its own transaction until they are marked written", async () => {
        const line = (name: string) => ({
          at: AT.toISOString(),
          revision: 'r1',
          action: 'create' as const,
          kind: 'Tag',
          name,
        });
        const audit = { id: 'apply-1', entries: [line('t1'), line('t2')] };
        await store.applyWrites(
          [
            { action: 'create', object: tag('t1') },
            { action: 'create', object: tag('t2') },
          ],
          'r1',
          AT,
          { audit },
        );
        expect(await keptAudits(store)).toEqual([audit]);
        // A refused apply keeps none: its lines would record a change that never was.
        await store
          .applyWrites([{ action: 'create', object: tag('t3') }], 'r2', AT, {
            expectGeneration: 0,
            audit: { id: 'apply-2', entries: [line('t3')] },
          })
          .catch(() => undefined);
        expect((await keptAudits(store)).map((a) => a.id)).toEqual(['apply-1']);
        await store.auditWritten('apply-1');
        expect(await keptAudits(store)).toEqual([]);
        const metadata = { name: 'once' };
        const spec = { objectType: 'vms', action: 'power-on', deleteAfterRun: true };
        await store.applyWrites(
          [
            {
              action: 'create',
              object: { kind: 'Task', name: 'once', metadata, spec, hash: contentHash(metadata, spec) },
            },
          ],
          'r3',
          AT,
        );
        const retired = {
          id: 'retire-1',
          entries: [{ ...line('once'), kind: 'Task', action: 'delete' as const, reason: 'deleteAfterRun' }],
        };
        await store.retireTask('once', AT, retired);
        expect(await keptAudits(store)).toEqual([retired]);
        // A recovery takes what it appended, in one transaction; what it leaves stays kept.
        const kept = { id: 'apply-3', entries: [line('t4')] };
        await store.applyWrites([{ action: 'create', object: tag('t4') }], 'r4', AT, { audit: kept });
        let seen: string[] = [];
        const taken = await store.takePendingAudits((audits) => {
          seen = audits.map((a) => a.id).sort();
          return ['apply-3'];
        });
        expect({ seen, taken }).toEqual({ seen: ['apply-3', 'retire-1'], taken: 1 });
        expect(await keptAudits(store)).toEqual([retired]);
        // Another connection (another process after a crash) sees them too.
        const other = await subject.connect();
        try {
          expect(await keptAudits(other)).toEqual([retired]);
        } finally {
          await other.close();
        }
      });

      it('lists objects of one kind, ordered by name', async () => {
        await store.applyWrites(
          [
            { action: 'create', object: tag('b') },
            { action: 'create', object: tag('a') },
          ],
          'r',
          AT,
        );
        expect((await store.listObjects('Tag')).map((o) => o.name)).toEqual(['a', 'b']);
        expect(await store.listObjects('Task')).toEqual([]);
      });

      it('lists every object summary (hashes, owner, retirement) in listObjects order, without content', async () => {
        expect(await store.listObjectSummaries()).toEqual([]);
        const metadata = { name: 'once' };
        const spec = { objectType: 'vms', action: 'power-on', deleteAfterRun: true };
        const task = {
          kind: 'Task' as const,
          name: 'once',
          metadata,
          spec,
          hash: contentHash(metadata, spec),
        };
        await store.applyWrites(
          [
            { action: 'create', object: tag('b') },
            { action: 'create', object: tag('a') },
            { action: 'create', object: task },
          ],
          'r1',
          AT,
        );
        await store.putObjectByHand(tag('a', ['edited']), AT);
        await store.putObjectByHand(tag('mine'), AT);
        await store.retireTask('once', at(1000));
        const summaries = await store.listObjectSummaries();
        expect(summaries).toEqual(
          (await store.listObjects()).map((o) => ({
            kind: o.kind,
            name: o.name,
            hash: o.hash,
            appliedHash: o.appliedHash,
            managedBy: o.managedBy,
            retiredAt: o.retiredAt,
          })),
        );
        expect(summaries.map((o) => `${o.kind}/${o.name}`)).toEqual([
          'Tag/a',
          'Tag/b',
          'Tag/mine',
          'Task/once',
        ]);
        const [edited, , mine, once] = summaries;
        expect(once).toMatchObject({ retiredAt: at(1000).toISOString(), managedBy: 'taskops' });
        expect(edited?.hash).toBe(tag('a', ['edited']).hash);
        expect(edited?.appliedHash).toBe(tag('a').hash);
        expect(mine).toMatchObject({ managedBy: 'api', appliedHash: null, retiredAt: null });
        expect(summaries[1]).not.toHaveProperty('spec');
      });

      it('visits every object summary in the order of listObjectSummaries, one at a time, until told to stop', async () => {
        const none: unknown[] = [];
        expect(await store.visitObjectSummaries((o) => none.push(o) > 0)).toBe(true);
        expect(none).toEqual([]);
        await store.applyWrites(
          ['c', 'a', 'b'].map((name) => ({ action: 'create' as const, object: tag(name) })),
          'r1',
          AT,
        );
        await store.putObjectByHand(tag('a', ['edited']), AT);
        await store.putObjectByHand(tag('mine'), AT);
        const seen: unknown[] = [];
        expect(await store.visitObjectSummaries((o) => seen.push(o) > 0)).toBe(true);
        expect(seen).toEqual(await store.listObjectSummaries());
        const firstTwo: string[] = [];
        expect(await store.visitObjectSummaries((o) => firstTwo.push(o.name) < 2)).toBe(false);
        expect(firstTwo).toEqual(['a', 'b']);
        // A stopped visit leaves the store usable at once: the next read and write go through.
        await store.applyWrites([{ action: 'delete', kind: 'Tag', name: 'c' }], 'r2', AT);
        expect((await store.listObjectSummaries()).map((o) => o.name)).toEqual(['a', 'b', 'mine']);
      });

      it('lists every object spec and retirement in listObjects order, for the engine', async () => {
        expect(await store.listObjectSpecs()).toEqual([]);
        const metadata = { name: 'once' };
        const spec = { objectType: 'vms', action: 'power-on', deleteAfterRun: true };
        const task = {
          kind: 'Task' as const,
          name: 'once',
          metadata,
          spec,
          hash: contentHash(metadata, spec),
        };
        await store.applyWrites(
          [
            { action: 'create', object: tag('b', ['x', 'y']) },
            { action: 'create', object: task },
          ],
          'r1',
          AT,
        );
        await store.putObjectByHand(tag('a'), AT);
        await store.retireTask('once', at(1000));
        const specs = await store.listObjectSpecs();
        expect(specs).toEqual(
          (await store.listObjects()).map((o) => ({
            kind: o.kind,
            name: o.name,
            spec: o.spec,
            retiredAt: o.retiredAt,
          })),
        );
        expect(specs).toEqual([
          { kind: 'Tag', name: 'a', spec: { category: 'vms', members: ['a'] }, retiredAt: null },
          { kind: 'Tag', name: 'b', spec: { category: 'vms', members: ['x', 'y'] }, retiredAt: null },
          { kind: 'Task', name: 'once', spec, retiredAt: at(1000).toISOString() },
        ]);
      });
    });

    describe('meta', () => {
      it('keeps the last value set per key', async () => {
        expect(await store.getMeta('k')).toBeUndefined();
        await store.setMeta('k', 'v1');
        await store.setMeta('k', 'v2');
        expect(await store.getMeta('k')).toBe('v2');
      });
    });

    describe('disabled webhooks', () => {
      const mark = (runId: string, specHash = 'h1') => ({
        status: 410,
        at: AT.toISOString(),
        runId,
        specHash,
      });

      it('marks and clears webhooks one by one, each apart from the others', async () => {
        expect(await store.listDisabledWebhooks()).toEqual(new Map());
        await store.disableWebhook('b', mark('run_b'));
        await store.disableWebhook('a', mark('run_a'));
        await store.disableWebhook('a', mark('run_a2', 'h2'));
        expect(await store.getDisabledWebhook('a')).toEqual(mark('run_a2', 'h2'));
        expect(await store.getDisabledWebhook('none')).toBeUndefined();
        expect(await store.listDisabledWebhooks()).toEqual(
          new Map([
            ['a', mark('run_a2', 'h2')],
            ['b', mark('run_b')],
          ]),
        );
        expect(await store.enableWebhook('a')).toBe(true);
        expect(await store.enableWebhook('a')).toBe(false);
        expect([...(await store.listDisabledWebhooks()).keys()]).toEqual(['b']);
      });

      it('keeps every mark two connections set and clear at the same moment', async () => {
        const other = await connect();
        await store.disableWebhook('gone', mark('run_0'));
        const names = Array.from({ length: 10 }, (_, i) => `hook-${i}`);
        await Promise.all([
          ...names.map((n, i) => (i % 2 ? other : store).disableWebhook(n, mark(`run_${n}`))),
          other.enableWebhook('gone'),
        ]);
        expect([...(await store.listDisabledWebhooks()).keys()].sort()).toEqual(names);
      });
    });

    describe('events', () => {
      it('stores events, hands out pending ones oldest first, and stores a repeated id once', async () => {
        await store.addEvent(event('e2'));
        await store.addEvent(event('e1'));
        await store.addEvent(event('e2', { name: 'changed' }));
        expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['e2', 'e1']);
        expect((await store.getEvent('e2'))?.name).toBe('login');
        await store.markEventProcessed('e2');
        expect(await store.pendingEvents()).toEqual([{ ...event('e1'), status: 'pending' }]);
        expect(await store.getEvent('e2')).toMatchObject({ status: 'processed' });
        const err = await store.markEventProcessed('nope').catch((e: unknown) => e);
        expect((err as StoreError).code).toBe('not-found');
      });

      it('stores a batch in one call, the ones named processed as processed', async () => {
        await store.addEvents([event('a'), event('b'), event('c')], new Set(['b']));
        expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['a', 'c']);
        expect((await store.getEvent('b'))?.status).toBe('processed');
      });

      it("keeps an event's origin: the engine's own events are marked as such, data and not an id prefix", async () => {
        await store.addEvents([event('mine', { origin: 'engine' }), event('theirs')]);
        expect((await store.getEvent('mine'))?.origin).toBe('engine');
        expect((await store.getEvent('theirs'))?.origin).toBeUndefined();
      });

      it("stores an event's runs and marks it processed in one step", async () => {
        await store.addEvent(event('e1'));
        const runs = [
          runRecord('r1', { trigger: { kind: 'event', name: 't', event: 'e1' } }),
          runRecord('r2'),
        ];
        expect(await store.insertRuns(runs, { processedEvent: 'e1' })).toEqual([true, true]);
        expect(await store.pendingEvents()).toEqual([]);
        expect(await store.insertRuns(runs, { processedEvent: 'e1' })).toEqual([false, false]);
      });

      it('stores nothing of the step when the event to mark does not exist', async () => {
        const err = await store
          .insertRuns([runRecord('r1')], { processedEvent: 'nope' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(await store.getRun('r1')).toBeUndefined();
      });
    });

    describe('run transitions', () => {
      it('inserts a run once: a second insert of the same id is refused as a value, not an error', async () => {
        expect(await store.insertRun(runRecord('r1'))).toBe(true);
        expect(await store.insertRun(runRecord('r1', { task: 'other' }))).toBe(false);
        expect(await store.getRun('r1')).toEqual(runRecord('r1'));
      });

      it('round-trips every field of a run record', async () => {
        const full = runRecord('r1', {
          status: 'running',
          trigger: { kind: 'event', name: 'on-login', event: 'e1' },
          target: { objectType: 'webhook', name: null },
          startedAt: AT.toISOString(),
          attempts: 2,
          error: 'HTTP 500',
          details: { attempts: [{ status: 500 }] },
          attemptStartedAt: at(1000).toISOString(),
          owner: 'engine-a',
          leaseUntil: at(LEASE).toISOString(),
          interruptions: 1,
          attemptLog: [attempt(1, 'interrupted', 'cut off')],
          delivery: { id: 'msg_1', body: '{"text":"é \\u2028"}' },
        });
        await store.insertRun(full);
        expect(await store.getRun('r1')).toEqual(full);
      });

      it("keeps a manual run's keep mark (run --keep), and leaves other runs without one", async () => {
        const kept = runRecord('kept', { trigger: { kind: 'manual', name: null, event: null, keep: true } });
        await store.insertRuns([kept, runRecord('plain')]);
        expect((await store.getRun('kept'))!.trigger).toEqual({
          kind: 'manual',
          name: null,
          event: null,
          keep: true,
        });
        expect((await store.getRun('plain'))!.trigger).toEqual({ kind: 'manual', name: null, event: null });
        const claimed = await store.claimRun('kept', 'queued', claim('engine-a'));
        expect(claimed!.trigger.keep).toBe(true);
      });

      it('claims a queued run once: the loser gets null and the winner owns it under a lease', async () => {
        await store.insertRun(runRecord('r1'));
        const won = await store.claimRun('r1', 'queued', claim('engine-a'));
        expect(won).toMatchObject({
          status: 'running',
          owner: 'engine-a',
          leaseUntil: at(LEASE).toISOString(),
          attempts: 1,
          startedAt: AT.toISOString(),
          attemptStartedAt: AT.toISOString(),
        });
        expect(await store.claimRun('r1', 'queued', claim('engine-b'))).toBeNull();
        expect(await store.claimRun('r1', 'delayed', claim('engine-b'))).toBeNull();
        expect(await store.claimRun('nope', 'queued', claim('engine-b'))).toBeNull();
        expect((await store.getRun('r1'))?.owner).toBe('engine-a');
      });

      it('fixes a delivery identity at the first claim and keeps it on every later one', async () => {
        await store.insertRun(runRecord('r1'));
        const first = await store.claimRun('r1', 'queued', {
          ...claim('a'),
          delivery: { id: 'msg_1', body: '{"n":1}' },
        });
        expect(first?.delivery).toEqual({ id: 'msg_1', body: '{"n":1}' });
        await store.delayRun('r1', 'a', {
          nextAttemptAt: at(1000),
          attempt: attempt(1, 'failed'),
          error: 'x',
          details: null,
        });
        const second = await store.claimRun('r1', 'delayed', {
          ...claim('b', at(1000)),
          delivery: { id: 'msg_2', body: '{"n":2}' },
        });
        expect(second?.delivery).toEqual({ id: 'msg_1', body: '{"n":1}' });
      });

      it('delays a running run until its next attempt: not claimable before it is due, then once', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        expect(
          await store.delayRun('r1', 'b', {
            nextAttemptAt: at(5000),
            attempt: attempt(1, 'failed'),
            error: 'x',
            details: null,
          }),
        ).toBeNull();
        const delayed = await store.delayRun('r1', 'a', {
          nextAttemptAt: at(5000),
          attempt: attempt(1, 'failed', 'HTTP 503'),
          error: 'HTTP 503',
          details: { attempts: [{ status: 503 }] },
        });
        expect(delayed).toMatchObject({
          status: 'delayed',
          nextAttemptAt: at(5000).toISOString(),
          owner: null,
          leaseUntil: null,
          error: 'HTTP 503',
          details: { attempts: [{ status: 503 }] },
          attemptLog: [attempt(1, 'failed', 'HTTP 503')],
        });
        expect(await store.claimRun('r1', 'delayed', claim('b', at(4999)))).toBeNull();
        const again = await store.claimRun('r1', 'delayed', claim('b', at(5000)));
        expect(again).toMatchObject({
          status: 'running',
          owner: 'b',
          attempts: 2,
          nextAttemptAt: null,
          startedAt: AT.toISOString(),
        });
        expect(again?.attemptStartedAt).toBe(at(5000).toISOString());
        expect(await store.claimRun('r1', 'delayed', claim('c', at(5000)))).toBeNull();
      });

      it('finishes a run only for its owner, logging the attempt; a finished run takes no other transition', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        const outcome = {
          status: 'succeeded' as const,
          at: at(2000),
          durationMs: 2000,
          attempt: attempt(1, 'succeeded'),
          error: null,
          details: { exitCode: 0 },
        };
        expect(await store.finishRun('r1', 'b', outcome)).toBeNull();
        const done = await store.finishRun('r1', 'a', outcome);
        expect(done).toMatchObject({
          status: 'succeeded',
          finishedAt: at(2000).toISOString(),
          durationMs: 2000,
          leaseUntil: null,
          details: { exitCode: 0 },
          attemptLog: [attempt(1, 'succeeded')],
        });
        expect(await store.finishRun('r1', 'a', { ...outcome, status: 'failed' })).toBeNull();
        expect(await store.claimRun('r1', 'queued', claim('a'))).toBeNull();
        expect(await store.cancelRun('r1', 'queued', { status: 'skipped', at: AT, error: 'x' })).toBeNull();
        expect(await store.renewLeases('a', ['r1'], at(LEASE * 2))).toEqual([]);
        expect((await store.getRun('r1'))?.status).toBe('succeeded');
      });

      it('refuses the end of an earlier attempt once the run was recovered and taken again, even by the same owner', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        await store.interruptExpired(at(LEASE + 1), 3);
        await store.claimRun('r1', 'delayed', claim('a', at(LEASE + 1)));
        const stale = {
          status: 'succeeded' as const,
          at: at(LEASE + 2),
          durationMs: 1,
          attempt: attempt(1, 'succeeded'),
          error: null,
          details: null,
        };
        expect(await store.finishRun('r1', 'a', stale)).toBeNull();
        expect(
          await store.delayRun('r1', 'a', {
            nextAttemptAt: AT,
            attempt: attempt(1, 'failed'),
            error: 'x',
            details: null,
          }),
        ).toBeNull();
        expect(
          await store.finishRun('r1', 'a', { ...stale, attempt: attempt(2, 'succeeded') }),
        ).toMatchObject({
          status: 'succeeded',
          attempts: 2,
        });
      });

      it("derives a transition's result from the caller's record exactly as a read of the row gives it", async () => {
        // Twins: the same life with the caller's record (`seen`) and without; each step must equal a read.
        const life = async (id: string, withSeen: boolean) => {
          const steps: Array<RunRecord | null> = [];
          const run = runRecord(id, { trigger: { kind: 'manual', name: null, event: null, keep: true } });
          await store.insertRun(run);
          const seen = (r: RunRecord | null) => (withSeen ? (r ?? undefined) : undefined);
          const claimed = await store.claimRun(
            id,
            'queued',
            { ...claim('a'), delivery: { id: 'msg_1', body: '{"n":"é"}' } },
            seen(run),
          );
          steps.push(claimed, (await store.getRun(id)) ?? null);
          const delayed = await store.delayRun(
            id,
            'a',
            {
              nextAttemptAt: at(1000),
              attempt: attempt(1, 'interrupted', 'shut down'),
              error: 'shut down',
              details: { status: 503, skipped: undefined, nested: [{ a: 1 }] },
            },
            seen(claimed),
          );
          steps.push(delayed, (await store.getRun(id)) ?? null);
          // From delayed the store reads the row back (another engine may have taken the run since).
          const again = await store.claimRun(id, 'delayed', claim('b', at(1000)), seen(delayed));
          steps.push(again, (await store.getRun(id)) ?? null);
          const lost = await store.finishRun(
            id,
            'a',
            {
              status: 'failed',
              at: at(2000),
              durationMs: 5,
              attempt: attempt(2, 'failed'),
              error: 'x',
              details: null,
            },
            seen(again),
          );
          steps.push(lost);
          const done = await store.finishRun(
            id,
            'b',
            {
              status: 'failed',
              at: at(2000),
              durationMs: 2000,
              attempt: attempt(2, 'failed', 'refused'),
              error: 'refused',
              details: { reason: 'bad argument' },
              acted: false,
            },
            seen(again),
          );
          steps.push(done, (await store.getRun(id)) ?? null);
          return steps;
        };
        const derived = await life('derived', true);
        const read = await life('read', false);
        for (let i = 0; i < derived.length; i += 1) {
          expect(derived[i] === null ? null : { ...derived[i], runId: 'read' }).toStrictEqual(read[i]);
        }
        // Each derived step equals the read that follows it; the lost finish is null both ways.
        expect(derived[0]).toStrictEqual(derived[1]);
        expect(derived[2]).toStrictEqual(derived[3]);
        expect(derived[4]).toStrictEqual(derived[5]);
        expect(derived[6]).toBeNull();
        expect(derived[7]).toStrictEqual(derived[8]);
        expect(derived[8]).toMatchObject({ status: 'failed', attempts: 1, interruptions: 1 });
      });

      it("stores the engine's events about a run's end with it, and none when the finish is lost", async () => {
        const ev = (id: string, name: string) => ({
          id,
          type: 'tasks',
          name,
          object: 'power-on',
          fields: { runId: 'r1' },
          at: AT.toISOString(),
          origin: 'engine' as const,
        });
        await store.insertRun(runRecord('r1'));
        const claimed = await store.claimRun('r1', 'queued', claim('a'));
        const end = (owner: string, events: Array<{ event: EngineEvent; processed: boolean }>) =>
          store.finishRun(
            'r1',
            owner,
            {
              status: 'failed',
              at: at(10),
              durationMs: 10,
              attempt: attempt(1, 'failed', 'HTTP 500'),
              error: 'HTTP 500',
              details: null,
              events,
            },
            claimed!,
          );
        // Another engine's finish loses, and so do its events.
        expect(await end('b', [{ event: ev('lost', 'failed'), processed: true }])).toBeNull();
        const done = await end('a', [
          { event: ev('e-failed', 'failed'), processed: false },
          { event: ev('e-exhausted', 'exhausted'), processed: true },
        ]);
        expect(done).toMatchObject({ status: 'failed', error: 'HTTP 500' });
        expect(await store.getEvent('lost')).toBeUndefined();
        expect(await store.getEvent('e-failed')).toMatchObject({
          status: 'pending',
          origin: 'engine',
          name: 'failed',
        });
        expect(await store.getEvent('e-exhausted')).toMatchObject({ status: 'processed', name: 'exhausted' });
        expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['e-failed']);
      });

      it('tells onRecorded the ended run once its end is stored, and nothing when the finish is lost', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        const told: Array<string | null> = [];
        const end = (owner: string) =>
          store.finishRun('r1', owner, {
            status: 'succeeded',
            at: at(5),
            durationMs: 5,
            attempt: attempt(1, 'succeeded'),
            error: null,
            details: null,
            onRecorded: (run) => told.push(`${run.runId} ${run.status}`),
          });
        expect(await end('b')).toBeNull();
        expect(told).toEqual([]);
        const done = await end('a');
        expect(told).toEqual(['r1 succeeded']);
        expect(done).toStrictEqual(await store.getRun('r1'));
      });

      it("loses a claim given the caller's record when the run is no longer queued", async () => {
        const run = runRecord('r1');
        await store.insertRun(run);
        expect(await store.claimRun('r1', 'queued', claim('a'), run)).not.toBeNull();
        expect(await store.claimRun('r1', 'queued', claim('b'), run)).toBeNull();
        expect((await store.getRun('r1'))?.owner).toBe('a');
      });

      it('does not count a last attempt that did nothing (refused before acting)', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        const ended = await store.finishRun('r1', 'a', {
          status: 'failed',
          at: AT,
          durationMs: 0,
          attempt: attempt(1, 'failed', 'refused'),
          error: 'refused',
          details: null,
          acted: false,
        });
        expect(ended).toMatchObject({
          status: 'failed',
          attempts: 0,
          attemptLog: [attempt(1, 'failed', 'refused')],
        });
      });

      it('counts interruptions the owner records itself (shutdown)', async () => {
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        const delayed = await store.delayRun('r1', 'a', {
          nextAttemptAt: AT,
          attempt: attempt(1, 'interrupted', 'shut down'),
          error: 'shut down',
          details: null,
        });
        expect(delayed?.interruptions).toBe(1);
        await store.claimRun('r1', 'delayed', claim('a'));
        const ended = await store.finishRun('r1', 'a', {
          status: 'interrupted',
          at: AT,
          durationMs: 0,
          attempt: attempt(2, 'interrupted', 'shut down'),
          error: 'shut down',
          details: null,
        });
        expect(ended).toMatchObject({ status: 'interrupted', interruptions: 2 });
      });

      it('skips a queued run and cancels a delayed one, each only from the state it names', async () => {
        await store.insertRun(runRecord('q'));
        expect(await store.cancelRun('q', 'delayed', { status: 'cancelled', at: AT, error: 'x' })).toBeNull();
        expect(
          await store.cancelRun('q', 'queued', { status: 'skipped', at: AT, error: 'task gone' }),
        ).toMatchObject({
          status: 'skipped',
          startedAt: AT.toISOString(),
          finishedAt: AT.toISOString(),
          durationMs: 0,
          error: 'task gone',
        });
        await store.insertRun(runRecord('d'));
        await store.claimRun('d', 'queued', claim('a'));
        await store.delayRun('d', 'a', {
          nextAttemptAt: at(60_000),
          attempt: attempt(1, 'failed'),
          error: 'x',
          details: null,
        });
        expect(
          await store.cancelRun('d', 'queued', { status: 'skipped', at: at(3000), error: 'y' }),
        ).toBeNull();
        expect(
          await store.cancelRun('d', 'delayed', { status: 'cancelled', at: at(3000), error: 'replaced' }),
        ).toMatchObject({
          status: 'cancelled',
          durationMs: 3000,
          nextAttemptAt: null,
          error: 'replaced',
        });
        expect(await store.claimRun('d', 'delayed', claim('a', at(60_000)))).toBeNull();
      });

      it('inserts a run directly as running or skipped', async () => {
        const running = runRecord('r1', {
          status: 'running',
          owner: 'a',
          leaseUntil: at(LEASE).toISOString(),
          attempts: 1,
          startedAt: AT.toISOString(),
          attemptStartedAt: AT.toISOString(),
        });
        expect(
          await store.insertRuns([running, runRecord('r2', { status: 'skipped', error: 'forbid' })]),
        ).toEqual([true, true]);
        expect(
          await store.finishRun('r1', 'a', {
            status: 'failed',
            at: AT,
            durationMs: 0,
            attempt: attempt(1, 'failed'),
            error: 'no',
            details: null,
          }),
        ).toMatchObject({ status: 'failed' });
        expect((await store.getRun('r2'))?.status).toBe('skipped');
      });
    });

    describe('task-log marks', () => {
      const finish = (runId: string, when: Date) =>
        store.finishRun(runId, 'a', {
          status: 'succeeded',
          at: when,
          durationMs: 5,
          attempt: attempt(1, 'succeeded'),
          error: null,
          details: null,
        });

      it('gives the runs that ended before the cutoff unmarked, oldest first, and marks them with what was written', async () => {
        await store.insertRuns(['r1', 'r2', 'r3', 'q'].map((id) => runRecord(id)));
        for (const id of ['r1', 'r2', 'r3']) await store.claimRun(id, 'queued', claim('a'));
        await finish('r2', at(1000));
        await finish('r1', at(2000));
        await finish('r3', at(9000));
        await store.insertRuns([
          runRecord('s', { status: 'skipped', error: 'forbid', finishedAt: at(500).toISOString() }),
        ]);
        const given: string[][] = [];
        const write = (runs: RunRecord[]) => given.push(runs.map((r) => `${r.runId} ${r.status}`));
        // The queued run is not an end; r3 ended after the cutoff.
        expect(await store.logUnlogged(at(5000), 10, write)).toBe(3);
        expect(given).toEqual([['s skipped', 'r2 succeeded', 'r1 succeeded']]);
        expect(await store.logUnlogged(at(5000), 10, write)).toBe(0);
        expect(await store.logUnlogged(at(10_000), 10, write)).toBe(1);
        expect(given[1]).toEqual(['r3 succeeded']);
      });

      it('leaves out runs marked logged, and never marks a run that has not ended', async () => {
        await store.insertRuns(['r1', 'r2', 'r3'].map((id) => runRecord(id)));
        for (const id of ['r1', 'r2']) await store.claimRun(id, 'queued', claim('a'));
        await finish('r1', at(1000));
        await finish('r2', at(1000));
        await store.markLogged(['r1', 'r3', 'nope']);
        await store.claimRun('r3', 'queued', claim('a'));
        await finish('r3', at(2000));
        const given: string[] = [];
        expect(await store.logUnlogged(at(5000), 10, (runs) => given.push(...runs.map((r) => r.runId)))).toBe(
          2,
        );
        expect(given).toEqual(['r2', 'r3']);
      });

      it('marks nothing when the write fails, so the next sweep gives the same runs again', async () => {
        await store.insertRuns([runRecord('r1')]);
        await store.claimRun('r1', 'queued', claim('a'));
        await finish('r1', at(1000));
        await expect(
          store.logUnlogged(at(5000), 10, () => {
            throw new Error('disk full');
          }),
        ).rejects.toThrow(/disk full/);
        const given: string[] = [];
        expect(await store.logUnlogged(at(5000), 10, (runs) => given.push(...runs.map((r) => r.runId)))).toBe(
          1,
        );
        expect(given).toEqual(['r1']);
      });

      it('gives at most `limit` runs per call', async () => {
        const ids = Array.from({ length: 5 }, (_, i) => `r${i}`);
        await store.insertRuns(
          ids.map((id) =>
            runRecord(id, { status: 'skipped', error: 'x', finishedAt: at(i0(id)).toISOString() }),
          ),
        );
        const sizes: number[] = [];
        const write = (runs: RunRecord[]) => sizes.push(runs.length);
        expect(await store.logUnlogged(at(5000), 2, write)).toBe(2);
        expect(await store.logUnlogged(at(5000), 2, write)).toBe(2);
        expect(await store.logUnlogged(at(5000), 2, write)).toBe(1);
        expect(sizes).toEqual([2, 2, 1]);
      });
    });

    describe('leases', () => {
      it("renews only the owner's running runs among those named", async () => {
        for (const id of ['a1', 'a2', 'b1', 'q1']) await store.insertRun(runRecord(id));
        await store.claimRun('a1', 'queued', claim('a'));
        await store.claimRun('a2', 'queued', claim('a'));
        await store.claimRun('b1', 'queued', claim('b'));
        const renewed = await store.renewLeases('a', ['a1', 'a2', 'b1', 'q1', 'nope'], at(LEASE * 2));
        expect(renewed.sort()).toEqual(['a1', 'a2']);
        expect((await store.getRun('a1'))?.leaseUntil).toBe(at(LEASE * 2).toISOString());
        expect((await store.getRun('b1'))?.leaseUntil).toBe(at(LEASE).toISOString());
        expect(await store.renewLeases('a', [], at(LEASE * 3))).toEqual([]);
      });

      it('interrupts only runs whose lease has expired, as delayed for another attempt due at once', async () => {
        await store.insertRun(runRecord('dead'));
        await store.insertRun(runRecord('live'));
        await store.claimRun('dead', 'queued', claim('a'));
        await store.claimRun('live', 'queued', claim('b', at(20_000)));
        expect(await store.interruptExpired(at(LEASE), 3)).toEqual([]); // not before the lease has passed
        const now = at(LEASE + 1);
        const interrupted = await store.interruptExpired(now, 3);
        expect(interrupted.map((r) => r.runId)).toEqual(['dead']);
        expect(interrupted[0]).toMatchObject({
          status: 'delayed',
          nextAttemptAt: now.toISOString(),
          owner: null,
          leaseUntil: null,
          interruptions: 1,
          error: expect.stringContaining('interrupted: engine a stopped'),
        });
        expect(interrupted[0]?.attemptLog).toEqual([
          {
            attempt: 1,
            at: AT.toISOString(),
            durationMs: LEASE + 1,
            outcome: 'interrupted',
            error: interrupted[0]?.error,
          },
        ]);
        expect((await store.getRun('live'))?.status).toBe('running');
        // The dead engine wakes up: it no longer owns the run and can record nothing.
        expect(
          await store.finishRun('dead', 'a', {
            status: 'succeeded',
            at: now,
            durationMs: 1,
            attempt: attempt(1, 'succeeded'),
            error: null,
            details: null,
          }),
        ).toBeNull();
        expect(await store.renewLeases('a', ['dead'], at(LEASE * 3))).toEqual([]);
        expect(await store.claimRun('dead', 'delayed', claim('b', now))).toMatchObject({
          owner: 'b',
          attempts: 2,
        });
      });

      it('ends a run as interrupted once it was cut off more often than allowed', async () => {
        await store.insertRun(runRecord('r1'));
        let when = AT;
        for (let i = 1; i <= 3; i++) {
          await store.claimRun('r1', i === 1 ? 'queued' : 'delayed', claim('a', when));
          when = new Date(when.getTime() + LEASE + 1);
          expect((await store.interruptExpired(when, 2))[0]?.status).toBe(i <= 2 ? 'delayed' : 'interrupted');
        }
        expect(await store.getRun('r1')).toMatchObject({
          status: 'interrupted',
          interruptions: 3,
          finishedAt: when.toISOString(),
          durationMs: when.getTime() - AT.getTime(),
        });
        expect((await store.getRun('r1'))?.attemptLog.map((a) => a.outcome)).toEqual([
          'interrupted',
          'interrupted',
          'interrupted',
        ]);
      });

      it('treats a running run without a lease (left by an older version) as expired', async () => {
        await store.insertRun(runRecord('old', { status: 'running', startedAt: AT.toISOString() }));
        expect((await store.interruptExpired(at(1), 3)).map((r) => r.runId)).toEqual(['old']);
      });
    });

    describe('listing and retention', () => {
      it('filters runs by task, status and time, newest first, with limit and offset', async () => {
        await store.insertRun(runRecord('r1', { queuedAt: '2026-03-01T10:00:00.000Z' }));
        await store.insertRun(runRecord('r2', { queuedAt: '2026-03-01T11:00:00.000Z', task: 'other' }));
        await store.insertRun(runRecord('r3', { queuedAt: '2026-03-01T12:00:00.000Z' }));
        await store.claimRun('r1', 'queued', claim('a'));
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
        expect((await store.listRuns({ task: 'power-on' })).map((r) => r.runId)).toEqual(['r3', 'r1']);
        expect((await store.listRuns({ status: ['running'] })).map((r) => r.runId)).toEqual(['r1']);
        expect((await store.listRuns({ since: '2026-03-01T11:00:00.000Z' })).map((r) => r.runId)).toEqual([
          'r3',
          'r2',
        ]);
        expect((await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.runId)).toEqual(['r2']);
        expect(await store.getRun('nope')).toBeUndefined();
      });

      it('filters runs by target object type and name (the deliveries to one webhook)', async () => {
        const to = (objectType: string, name: string | null) => ({ target: { objectType, name } });
        await store.insertRun(
          runRecord('w1', { queuedAt: '2026-03-01T10:00:00.000Z', ...to('webhook', 'slack') }),
        );
        await store.insertRun(
          runRecord('w2', { queuedAt: '2026-03-01T11:00:00.000Z', ...to('webhook', 'pager') }),
        );
        await store.insertRun(
          runRecord('v1', { queuedAt: '2026-03-01T12:00:00.000Z', ...to('vms', 'slack') }),
        );
        const ids = async (filter: RunFilter) => (await store.listRuns(filter)).map((r) => r.runId);
        expect(await ids({ objectType: 'webhook' })).toEqual(['w2', 'w1']);
        expect(await ids({ objectType: 'webhook', target: 'slack' })).toEqual(['w1']);
        expect(await ids({ target: 'slack' })).toEqual(['v1', 'w1']);
      });

      it('prunes finished runs and processed events older than the cutoff, never waiting or running ones', async () => {
        const old = '2026-01-01T00:00:00.000Z';
        for (const status of [
          'succeeded',
          'failed',
          'skipped',
          'interrupted',
          'cancelled',
          'queued',
          'delayed',
          'running',
        ] as const)
          await store.insertRun(runRecord(status, { status, queuedAt: old }));
        await store.addEvents([event('done', { at: old }), event('waiting', { at: old })], new Set(['done']));
        expect(await store.pruneActivity(AT)).toBe(6);
        expect((await store.listRuns()).map((r) => r.status).sort()).toEqual([
          'delayed',
          'queued',
          'running',
        ]);
        expect((await store.pendingEvents()).map((e) => e.id)).toEqual(['waiting']);
      });
    });

    describe('two connections on one store (two engines)', () => {
      it('lets exactly one of them claim each run', async () => {
        const other = await connect();
        const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
        await store.insertRuns(ids.map((id) => runRecord(id)));
        const results = await Promise.all(
          ids.flatMap((id) => [
            store.claimRun(id, 'queued', claim('a')),
            other.claimRun(id, 'queued', claim('b')),
          ]),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(ids.length);
        const owners = (await other.listRuns({ status: ['running'] })).map((r) => r.owner);
        expect(owners).toHaveLength(ids.length);
      });

      it('inserts a derived run id once across both', async () => {
        const other = await connect();
        const [a, b] = await Promise.all([
          store.insertRun(runRecord('same')),
          other.insertRun(runRecord('same')),
        ]);
        expect([a, b].sort()).toEqual([false, true]);
      });

      it("does not let one interrupt the other's live run, only an expired one", async () => {
        const other = await connect();
        await store.insertRun(runRecord('r1'));
        await store.claimRun('r1', 'queued', claim('a'));
        expect(await other.interruptExpired(at(LEASE - 1), 3)).toEqual([]);
        await store.renewLeases('a', ['r1'], at(LEASE * 2));
        expect(await other.interruptExpired(at(LEASE + 1), 3)).toEqual([]);
        expect((await other.interruptExpired(at(LEASE * 2 + 1), 3)).map((r) => r.runId)).toEqual(['r1']);
      });
    });
  });

  // Further sections of the contract, with the same factory.
  firingLedgerContract(`Store contract: ${name}`, async () => {
    const subject = await factory();
    const opened: Store[] = [subject.store];
    return {
      store: subject.store,
      connect: async () => {
        const other = await subject.connect();
        opened.push(other);
        return other;
      },
      dispose: async () => {
        for (const s of opened) await s.close();
        await subject.cleanup();
      },
    };
  });
  // The persisted sync status (last attempted / applied revision and outcome) adds its section here.
}
