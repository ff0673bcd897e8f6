import type { PoolClient } from 'pg';

/**
 * The PostgreSQL schema, numbered like the SQLite one (entry i brings version i to i + 1; append only).
 * Instants are ISO 8601 text, as in SQLite, so both stores hand back exactly the strings they were given;
 * toISOString text sorts in time order. Names sort with COLLATE "C" so listings order as SQLite's do,
 * whatever the server's locale. The leader lease and heartbeats use the server's clock (timestamptz),
 * so replicas on machines with skewed clocks still agree on who leads.
 */
export const PG_MIGRATIONS: ReadonlyArray<string> = [
  `
  CREATE TABLE objects (
    kind TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    metadata TEXT NOT NULL,
    spec TEXT NOT NULL,
    hash TEXT NOT NULL,
    applied_hash TEXT,
    managed_by TEXT NOT NULL CHECK (managed_by IN ('taskops', 'api')),
    revision TEXT,
    updated_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (kind, name)
  );
  CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision TEXT,
    applied_at TEXT,
    generation BIGINT NOT NULL DEFAULT 0
  );
  INSERT INTO state (id, generation) VALUES (1, 0);
  CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE events (
    seq BIGSERIAL UNIQUE,
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    object TEXT,
    fields TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'processed')),
    processed_at TEXT,
    origin TEXT NOT NULL DEFAULT 'external' CHECK (origin IN ('external', 'engine'))
  );
  CREATE INDEX events_pending ON events (seq) WHERE status = 'pending';
  CREATE TABLE runs (
    run_id TEXT COLLATE "C" PRIMARY KEY,
    task TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    trigger_name TEXT,
    trigger_event TEXT,
    target_object_type TEXT NOT NULL,
    target_name TEXT,
    queued_at TEXT COLLATE "C" NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    duration_ms BIGINT,
    attempts INTEGER NOT NULL,
    error TEXT,
    details TEXT,
    trigger_scheduled_for TEXT,
    trigger_catch_up INTEGER,
    attempt_started_at TEXT,
    next_attempt_at TEXT COLLATE "C",
    owner TEXT,
    lease_until TEXT COLLATE "C",
    interruptions INTEGER NOT NULL DEFAULT 0,
    attempt_log TEXT NOT NULL DEFAULT '[]',
    delivery TEXT
  );
  CREATE INDEX runs_task ON runs (task, queued_at);
  CREATE INDEX runs_status ON runs (status, queued_at);
  CREATE INDEX runs_queued_at ON runs (queued_at);
  CREATE INDEX runs_running_lease ON runs (lease_until) WHERE status = 'running';
  CREATE TABLE firings (
    schedule TEXT COLLATE "C" NOT NULL,
    scheduled_for TEXT COLLATE "C" NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'missed')),
    catch_up INTEGER NOT NULL CHECK (catch_up IN (0, 1)),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (schedule, scheduled_for)
  );
  CREATE INDEX firings_scheduled_for ON firings (scheduled_for);
  CREATE TABLE firing_watermarks (schedule TEXT COLLATE "C" PRIMARY KEY, scheduled_for TEXT COLLATE "C" NOT NULL);
  CREATE TABLE sync_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    attempted_at TEXT NOT NULL,
    attempted_revision TEXT,
    reason TEXT NOT NULL,
    message TEXT,
    problems TEXT NOT NULL,
    summary TEXT NOT NULL,
    applied_revision TEXT,
    applied_at TEXT
  );
  CREATE TABLE leader (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE replicas (
    id TEXT COLLATE "C" PRIMARY KEY,
    listen TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL
  );
  `,
  // A manual run's keep mark (run --keep): a kept run recovered by another replica must not retire its task.
  `
  ALTER TABLE runs ADD COLUMN trigger_keep INTEGER CHECK (trigger_keep IN (0, 1));
  `,
  // Webhooks disabled by a 410, one row each: they were one JSON meta key, rewritten whole by every change,
  // so two replicas disabling at once could lose one. A value that does not parse disables nothing, as before.
  `
  CREATE TABLE disabled_webhooks (
    name TEXT COLLATE "C" PRIMARY KEY,
    status INTEGER NOT NULL,
    at TEXT NOT NULL,
    run_id TEXT NOT NULL,
    spec_hash TEXT NOT NULL
  );
  DO $$
  BEGIN
    INSERT INTO disabled_webhooks (name, status, at, run_id, spec_hash)
      SELECT e.key, (e.value->>'status')::int, e.value->>'at', e.value->>'runId', e.value->>'specHash'
      FROM meta, jsonb_each(meta.value::jsonb) AS e
      WHERE meta.key = 'webhooks.disabled' AND jsonb_typeof(e.value) = 'object'
        AND e.value ?& ARRAY['status', 'at', 'runId', 'specHash']
      ON CONFLICT (name) DO NOTHING;
  EXCEPTION WHEN others THEN
    NULL;
  END $$;
  DELETE FROM meta WHERE key = 'webhooks.disabled';
  `,
  // eventsSince (plans count what a changed trigger matches) reads by time, in (at, seq) order: an index,
  // not a scan and a sort of every event kept for the retention period.
  `
  CREATE INDEX events_at ON events (at, seq);
  `,
  // A run's task-log line is written just after its end is stored: \`logged\` marks it written, so a line a
  // crash cut off between the two is found (runs ended and not logged) and written at the next recovery.
  // Runs stored before this migration count as logged. New rows leave it NULL, so no insert names it. The
  // index holds ended runs only (finished_at set): a run's insert and claims leave it alone.
  `
  ALTER TABLE runs ADD COLUMN logged BOOLEAN CHECK (logged);
  UPDATE runs SET logged = true;
  CREATE INDEX runs_unlogged ON runs ((finished_at COLLATE "C")) WHERE logged IS NULL AND finished_at IS NOT NULL;
  `,
  // An apply's (or a retirement's) audit lines are written just after its commit: the same transaction keeps
  // them here, and they are deleted once appended, so lines a crash cut off between the two are appended by a
  // later apply or the engine's recovery pass (recoverAudit). One row per change (encodeAuditEntries).
  `
  CREATE TABLE audit_pending (id TEXT PRIMARY KEY, entries TEXT NOT NULL);
  `,
];

/** The advisory lock key under which one process at a time migrates (any constant unique to taskops). */
const MIGRATION_LOCK = 7_413_001;

/**
 * Brings the database to the latest schema. Replicas that start together queue on a transaction-level
 * advisory lock: the first migrates, the others then find the version current and do nothing.
 */
export async function migratePostgres(client: PoolClient, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = rows[0]?.version ?? 0;
    if (current > PG_MIGRATIONS.length) {
      throw new Error(
        `${where} has schema version ${current}, newer than this taskops (${PG_MIGRATIONS.length}): upgrade taskops`,
      );
    }
    for (let v = current; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v] as string);
    if (rows.length === 0)
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [PG_MIGRATIONS.length]);
    else if (current !== PG_MIGRATIONS.length)
      await client.query('UPDATE schema_version SET version = $1', [PG_MIGRATIONS.length]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
