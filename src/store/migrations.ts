import type Database from 'better-sqlite3';

/**
 * Numbered schema migrations: entry i brings the schema from version i to i + 1.
 * Append only; never edit a migration that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<string> = [
  `
  CREATE TABLE objects (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    spec TEXT NOT NULL,
    hash TEXT NOT NULL,
    applied_hash TEXT,
    managed_by TEXT NOT NULL CHECK (managed_by IN ('taskops', 'api')),
    revision TEXT,
    updated_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (kind, name)
  ) WITHOUT ROWID;

  CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision TEXT,
    applied_at TEXT,
    generation INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO state (id, generation) VALUES (1, 0);

  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    object TEXT,
    fields TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'processed')),
    processed_at TEXT
  );
  CREATE INDEX events_status ON events (status);

  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    trigger_name TEXT,
    trigger_event TEXT,
    target_object_type TEXT NOT NULL,
    target_name TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    duration_ms INTEGER,
    attempts INTEGER NOT NULL,
    error TEXT,
    details TEXT
  );
  CREATE INDEX runs_task ON runs (task, queued_at);
  CREATE INDEX runs_status ON runs (status, queued_at);
  CREATE INDEX runs_queued_at ON runs (queued_at);
  `,
  // The firing ledger: one row per schedule slot, unique, so no engine fires a slot twice; and each
  // schedule's latest slot, which only moves forward. They replace the schedule.lastFired.* meta keys.
  // Schedule runs name their slot.
  `
  CREATE TABLE firings (
    schedule TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'missed')),
    catch_up INTEGER NOT NULL CHECK (catch_up IN (0, 1)),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (schedule, scheduled_for)
  ) WITHOUT ROWID;
  CREATE INDEX firings_scheduled_for ON firings (scheduled_for);
  CREATE TABLE firing_watermarks (
    schedule TEXT PRIMARY KEY,
    scheduled_for TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO firings (schedule, scheduled_for, outcome, catch_up, recorded_at)
    SELECT substr(key, 20), value, 'fired', 0, value FROM meta WHERE key LIKE 'schedule.lastFired.%';
  INSERT OR IGNORE INTO firing_watermarks (schedule, scheduled_for)
    SELECT substr(key, 20), value FROM meta WHERE key LIKE 'schedule.lastFired.%';
  DELETE FROM meta WHERE key LIKE 'schedule.lastFired.%';

  ALTER TABLE runs ADD COLUMN trigger_scheduled_for TEXT;
  ALTER TABLE runs ADD COLUMN trigger_catch_up INTEGER;
  `,
  // The sync status: the last reconcile attempt and the last revision it brought the live state to (one row).
  `
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
  `,
  // Runs as a state machine: attempts, leases and a delivery's identity as data on the run; the loop guard as
  // data on the event (it was a sys_ id prefix).
  `
  ALTER TABLE runs ADD COLUMN attempt_started_at TEXT;
  ALTER TABLE runs ADD COLUMN next_attempt_at TEXT;
  ALTER TABLE runs ADD COLUMN owner TEXT;
  ALTER TABLE runs ADD COLUMN lease_until TEXT;
  ALTER TABLE runs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN attempt_log TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE runs ADD COLUMN delivery TEXT;
  ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'external' CHECK (origin IN ('external', 'engine'));
  UPDATE events SET origin = 'engine' WHERE id LIKE 'sys!_%' ESCAPE '!';
  `,
  // A manual run's keep mark (run --keep): a kept run recovered by another engine must not retire its task.
  `
  ALTER TABLE runs ADD COLUMN trigger_keep INTEGER CHECK (trigger_keep IN (0, 1));
  `,
  // Webhooks disabled by a 410, one row each: they were one JSON meta key, rewritten whole by every change,
  // so two engines disabling at once could lose one. Entries that do not parse are dropped (OR IGNORE skips
  // rows with a missing field), as reading them disabled nothing.
  `
  CREATE TABLE disabled_webhooks (
    name TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    at TEXT NOT NULL,
    run_id TEXT NOT NULL,
    spec_hash TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO disabled_webhooks (name, status, at, run_id, spec_hash)
    SELECT e.key, json_extract(e.value, '$.status'), json_extract(e.value, '$.at'),
      json_extract(e.value, '$.runId'), json_extract(e.value, '$.specHash')
    FROM meta, json_each(CASE WHEN json_valid(meta.value)
      THEN CASE WHEN json_type(meta.value) = 'object' THEN meta.value ELSE '{}' END ELSE '{}' END) AS e
    WHERE meta.key = 'webhooks.disabled' AND e.type = 'object';
  DELETE FROM meta WHERE key = 'webhooks.disabled';
  `,
  // eventsSince (plans count what a changed trigger matches) reads by time: an index, not a scan of every
  // event kept for the retention period. The rowid it orders by after the time is part of every index.
  `
  CREATE INDEX events_at ON events (at);
  `,
  // Only pending events are looked up by status (the backlog, oldest first): an index of those alone, so the
  // events stored already processed (every run's tasks/succeeded) and each acknowledgement write none.
  `
  DROP INDEX events_status;
  CREATE INDEX events_pending ON events (status) WHERE status = 'pending';
  `,
  // A run's task-log line is written just after its end is stored: \`logged\` marks it written, so a line a
  // crash cut off between the two is found (runs ended and not logged) and written at the next recovery.
  // Runs stored before this migration count as logged. New rows leave it NULL, so no insert names it. The
  // index holds ended runs only (finished_at set): a run's insert and claims leave it alone.
  `
  ALTER TABLE runs ADD COLUMN logged INTEGER CHECK (logged = 1);
  UPDATE runs SET logged = 1;
  CREATE INDEX runs_unlogged ON runs (finished_at) WHERE logged IS NULL AND finished_at IS NOT NULL;
  `,
  // An apply's (or a retirement's) audit lines are written just after its commit: the same transaction keeps
  // them here, and they are deleted once appended, so lines a crash cut off between the two are appended by a
  // later apply or the engine's recovery pass (recoverAudit). One row per change (encodeAuditEntries).
  `
  CREATE TABLE audit_pending (id TEXT PRIMARY KEY, entries TEXT NOT NULL);
  `,
];

/** Brings the database to the latest schema, in one immediate transaction so two processes never both migrate. */
export function migrate(db: Database.Database, dbPath: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `${dbPath} has schema version ${current}, newer than this taskops (${MIGRATIONS.length}): upgrade taskops`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] as string);
    if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
    else if (current !== MIGRATIONS.length)
      db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
  }).immediate();
}

/** A read-only open cannot migrate: the schema must already be this taskops's. */
export function checkSchema(db: Database.Database, dbPath: string): void {
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  const row = hasTable
    ? (db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)
    : undefined;
  const current = row?.version ?? 0;
  if (current === MIGRATIONS.length) return;
  throw new Error(
    current > MIGRATIONS.length
      ? `${dbPath} has schema version ${current}, newer than this taskops (${MIGRATIONS.length}): upgrade taskops`
      : `${dbPath} has schema version ${current}, older than this taskops (${MIGRATIONS.length}): ` +
          'run taskops serve or reconcile once to migrate it',
  );
}
