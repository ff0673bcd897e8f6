import pg from 'pg';
import { StoreError } from './errors.js';
import type { Queryable } from './postgres-runs.js';
import type { LeaderFence, LeaderTerm, ReplicaPeer, ReplicaRegistry } from './types.js';

/**
 * What replicas of one PostgreSQL store share besides the work: the leader lease (one `leader` row whose
 * epoch goes up on every change of holder: the fencing token), the heartbeats (one `replicas` row each),
 * and the change feed (LISTEN on the channel object writes notify). Lease times are the server's clock.
 */
export class PostgresReplicas implements ReplicaRegistry {
  private listener: pg.Client | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly where: string,
    private readonly channel: string,
  ) {}

  /**
   * Takes the lease when it is free or expired, or extends it when `replica` holds it. The epoch moves only
   * when the holder changes, so every write of a deposed leader names an epoch that no longer matches.
   */
  async lead(replica: string, leaseMs: number): Promise<LeaderTerm> {
    const { rows } = await this.query<{ holder: string; epoch: number; lease_until: Date; leading: boolean }>(
      'take or renew the leader lease',
      `WITH taken AS (
         INSERT INTO leader (id, holder, epoch, lease_until)
         VALUES (1, $1, 1, clock_timestamp() + $2 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET
           epoch = CASE WHEN leader.holder = excluded.holder THEN leader.epoch ELSE leader.epoch + 1 END,
           holder = excluded.holder, lease_until = excluded.lease_until
         WHERE leader.holder = excluded.holder OR leader.lease_until < clock_timestamp()
         RETURNING holder, epoch, lease_until, true AS leading
       )
       SELECT * FROM taken
       UNION ALL
       SELECT holder, epoch, lease_until, false FROM leader WHERE NOT EXISTS (SELECT 1 FROM taken)`,
      [replica, leaseMs],
    );
    const row = rows[0]!;
    return { leader: row.holder, epoch: row.epoch, leaseUntil: row.lease_until, leading: row.leading };
  }

  /** Lets the lease go at once (a clean shutdown), so another replica takes over without waiting it out. */
  async resign(replica: string): Promise<void> {
    await this.query(
      'give up the leader lease',
      `UPDATE leader SET lease_until = clock_timestamp() - interval '1 millisecond' WHERE holder = $1`,
      [replica],
    );
  }

  /**
   * Inside a write transaction: refuses it unless `fence` is still the live lease. FOR SHARE holds the row,
   * so no takeover can commit between this check and the write's commit.
   */
  async checkFence(db: Queryable, fence: LeaderFence): Promise<void> {
    const { rows } = await db.query<{ holder: string; epoch: number; live: boolean }>(
      'SELECT holder, epoch, lease_until >= clock_timestamp() AS live FROM leader WHERE id = 1 FOR SHARE',
    );
    const row = rows[0];
    if (row && row.holder === fence.replica && row.epoch === fence.epoch && row.live) return;
    const now = row
      ? `the lease is ${row.live ? 'held' : 'expired'} by ${row.holder} at epoch ${row.epoch}`
      : 'no replica holds the lease';
    throw new StoreError(
      `refused a write from replica ${fence.replica} as leader at epoch ${fence.epoch}: ${now} in ${this.where}; ` +
        'nothing was changed: this replica is no longer the leader and must not apply',
      'fenced',
    );
  }

  async heartbeat(replica: string, listen: string | null): Promise<void> {
    await this.query(
      'record this replica’s heartbeat',
      `INSERT INTO replicas (id, listen, started_at, seen_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET listen = excluded.listen, seen_at = excluded.seen_at`,
      [replica, listen],
    );
  }

  /** Replicas whose heartbeat is younger than `ttlMs`, by id; rows older than a day are cleared. */
  async peers(ttlMs: number): Promise<ReplicaPeer[]> {
    await this.query(
      'clear old heartbeats',
      `DELETE FROM replicas WHERE seen_at < clock_timestamp() - interval '1 day'`,
    );
    const { rows } = await this.query<{ id: string; listen: string | null; seen_at: Date }>(
      'list the live replicas',
      `SELECT id, listen, seen_at FROM replicas WHERE seen_at >= clock_timestamp() - $1 * interval '1 millisecond'
       ORDER BY id`,
      [ttlMs],
    );
    return rows.map((r) => ({ id: r.id, listen: r.listen, seenAt: r.seen_at.toISOString() }));
  }

  async leave(replica: string): Promise<void> {
    await this.query('remove this replica’s heartbeat', 'DELETE FROM replicas WHERE id = $1', [replica]);
  }

  /**
   * Calls `onChange` whenever another process commits an object write (LISTEN on a connection of its own,
   * outside the pool). `onLost` hears a broken feed: the caller falls back to polling until it is back.
   */
  async watchChanges(onChange: () => void, onLost: (err: Error) => void): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) onChange();
    });
    client.on('error', (err) => {
      this.listener = null;
      onLost(err);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new StoreError(`could not listen for changes in ${this.where}: ${(err as Error).message}`, 'io', {
        cause: err,
      });
    }
    this.listener = client;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  private async query<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []) {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw new StoreError(`could not ${what} in ${this.where}: ${(err as Error).message}`, 'io', {
        cause: err,
      });
    }
  }
}
