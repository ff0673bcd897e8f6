import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, PG_MIGRATIONS, StoreError, type ObjectContent } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
async function open(url: string): Promise<PostgresStore> {
  const store = await PostgresStore.open(url);
  opened.push(store);
  return store;
}

function tag(name: string): ObjectContent {
  const metadata = { name, labels: {} };
  const spec = { category: 'vms', members: ['a'] };
  return { kind: 'Tag', name, metadata, spec, hash: contentHash(metadata, spec) };
}
const AT = new Date('2026-03-01T10:00:00Z');

describe('PostgreSQL store: migrations', () => {
  it('migrates once when several replicas open a new database at the same moment', async () => {
    const url = await server.freshDatabase();
    await Promise.all([open(url), open(url), open(url), open(url)]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM schema_version');
    await client.end();
    expect(rows).toEqual([{ version: PG_MIGRATIONS.length }]);
  });

  it('moves the webhooks an older schema disabled in its meta key into their table; a garbled value disables nothing', async () => {
    // A database at the schema before the table (the migrations up to it), with `value` in the old meta key.
    const before = PG_MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE disabled_webhooks'));
    const older = async (value: string) => {
      const url = await server.freshDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [before]);
      for (const migration of PG_MIGRATIONS.slice(0, before)) await client.query(migration);
      await client.query('INSERT INTO meta (key, value) VALUES ($1, $2)', ['webhooks.disabled', value]);
      await client.end();
      return open(url);
    };
    const entry = { status: 410, at: AT.toISOString(), runId: 'run_1', specHash: 'abc' };
    const store = await older(JSON.stringify({ hook: entry, broken: { status: 410 } }));
    expect(await store.listDisabledWebhooks()).toEqual(new Map([['hook', entry]]));
    expect(await store.getMeta('webhooks.disabled')).toBeUndefined();
    const garbled = await older('{not json');
    expect(await garbled.listDisabledWebhooks()).toEqual(new Map());
    expect(await garbled.getMeta('webhooks.disabled')).toBeUndefined();
  });

  it('reads the events since a time through an index on their time, in order, without a sort', async () => {
    const url = await server.freshDatabase();
    await open(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    // An empty table: the planner would scan it whatever the indexes; with scans priced out, it shows its index.
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM events WHERE at >= '2026-03-01T10:00:00.000Z' ORDER BY at, seq LIMIT 10`,
    );
    await client.end();
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('Index Scan using events_at on events');
    expect(plan).not.toContain('Sort');
  });

  it('names the server without its password when it cannot be reached', async () => {
    const err = await PostgresStore.open('postgres://taskops:hunter2@127.0.0.1:1/none').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain('postgres://127.0.0.1:1/none is not reachable');
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('PostgreSQL store: the leader lease and its fencing token', () => {
  it('has one leader at a time; the epoch moves when another replica takes an expired lease', async () => {
    const url = await server.freshDatabase();
    const [a, b] = [await open(url), await open(url)];
    const first = await a.replicas.lead('a', 300);
    expect(first).toMatchObject({ leader: 'a', epoch: 1, leading: true });
    expect(await b.replicas.lead('b', 300)).toMatchObject({ leader: 'a', epoch: 1, leading: false });
    expect(await a.replicas.lead('a', 300)).toMatchObject({ leader: 'a', epoch: 1, leading: true });
    const taken = await until(async () => {
      const term = await b.replicas.lead('b', 300);
      return term.leading ? term : null;
    }, 'b to take the expired lease');
    expect(taken).toMatchObject({ leader: 'b', epoch: 2 });
    expect(await a.replicas.lead('a', 300)).toMatchObject({ leader: 'b', leading: false });
  });

  it("refuses a deposed leader's late apply and sync record, changing nothing; takes the new leader's", async () => {
    const url = await server.freshDatabase();
    const [a, b] = [await open(url), await open(url)];
    await a.replicas.lead('a', 60_000);
    const staleFence = { replica: 'a', epoch: 1 };
    await a.replicas.resign('a');
    const term = await b.replicas.lead('b', 60_000);
    expect(term.epoch).toBe(2);

    const late = await a
      .applyWrites([{ action: 'create', object: tag('late') }], 'rev-old', AT, { fence: staleFence })
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(StoreError);
    expect((late as StoreError).code).toBe('fenced');
    expect((late as Error).message).toMatch(
      /refused a write from replica a as leader at epoch 1: .* held by b at epoch 2/,
    );
    const attempt = {
      at: AT.toISOString(),
      revision: 'rev-old',
      reason: 'applied' as const,
      message: null,
      problems: [],
      summary: { create: 1, update: 0, delete: 0 },
    };
    await expect(a.recordSyncAttempt(attempt, staleFence)).rejects.toMatchObject({ code: 'fenced' });
    expect(await b.listObjects()).toEqual([]);
    expect(await b.generation()).toBe(0);
    expect(await b.getSyncStatus()).toBeNull();

    await b.applyWrites([{ action: 'create', object: tag('new') }], 'rev-new', AT, {
      fence: { replica: 'b', epoch: 2 },
    });
    await b.recordSyncAttempt({ ...attempt, revision: 'rev-new' }, { replica: 'b', epoch: 2 });
    expect((await a.listObjects()).map((o) => o.name)).toEqual(['new']);
    expect((await a.getSyncStatus())?.lastApplied?.revision).toBe('rev-new');
  });

  it('refuses a leader whose own lease ran out, even before anyone took over', async () => {
    const url = await server.freshDatabase();
    const a = await open(url);
    await a.replicas.lead('a', 60_000);
    await a.replicas.resign('a');
    await expect(a.applyWrites([], 'rev', AT, { fence: { replica: 'a', epoch: 1 } })).rejects.toMatchObject({
      code: 'fenced',
    });
  });
});

describe('PostgreSQL store: replicas see each other and each other’s writes', () => {
  it('lists replicas with a live heartbeat, and drops one that left', async () => {
    const url = await server.freshDatabase();
    const a = await open(url);
    await a.replicas.heartbeat('r1', '127.0.0.1:8081');
    await a.replicas.heartbeat('r2', '127.0.0.1:8082');
    expect((await a.replicas.peers(10_000)).map((p) => [p.id, p.listen])).toEqual([
      ['r1', '127.0.0.1:8081'],
      ['r2', '127.0.0.1:8082'],
    ]);
    await a.replicas.leave('r2');
    expect((await a.replicas.peers(10_000)).map((p) => p.id)).toEqual(['r1']);
  });

  it('tells a listening replica about an apply and a hand edit once each commits, and not about writes that changed nothing', async () => {
    const url = await server.freshDatabase();
    const [a, b] = [await open(url), await open(url)];
    let changes = 0;
    await b.replicas.watchChanges(
      () => changes++,
      () => undefined,
    );
    await a.applyWrites([{ action: 'create', object: tag('t1') }], 'rev1', AT);
    await until(() => changes === 1, 'the apply to be notified', 1000);
    // An apply without changes moves no generation and notifies nobody; a failed one neither.
    await a.applyWrites([], 'rev2', AT);
    await a
      .applyWrites([{ action: 'create', object: tag('t2') }], 'rev3', AT, { expectGeneration: 0 })
      .catch(() => undefined);
    await a.putObjectByHand(tag('t3'), AT);
    await until(() => changes === 2, 'the hand edit to be notified', 1000);
    expect(changes).toBe(2);
  });
});
