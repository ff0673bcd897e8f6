/**
 * The floor of bench/replicas.bench.ts: the statements of one noop run as the PostgreSQL store issues them
 * (store the event; store the run and mark the event processed, one statement; claim; finish) issued by a bare `pg` pool with BENCH_CONCURRENCY loops in one
 * process, on the same tables, without the engine. Prints one JSON line {runs, ms}.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.BENCH_STORE!, max: 10 });
const total = Number(process.env.BENCH_EVENTS);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
let next = 0;

async function oneRun(): Promise<void> {
  const id = randomUUID();
  const now = new Date().toISOString();
  await pool.query(
    `INSERT INTO events (id, type, name, object, fields, at, status, origin)
     VALUES ($1, 'bench', 'ping', $1, '{}', $2, 'pending', 'external') ON CONFLICT (id) DO NOTHING`,
    [`evt_${id}`, now],
  );
  // The store's one-statement step: the run stored and its event marked processed together.
  await pool.query(
    `WITH ev AS (UPDATE events SET status = 'processed', processed_at = $3 WHERE id = $2 RETURNING id),
     ins AS (
       INSERT INTO runs (run_id, task, status, trigger_kind, trigger_name, trigger_event, target_object_type,
         target_name, queued_at, attempts, attempt_log)
       SELECT $1, 'ping', 'queued', 'event', 'on-ping', $2, 'jobs', $2, $3, 0, '[]' WHERE EXISTS (SELECT 1 FROM ev)
       ON CONFLICT (run_id) DO NOTHING RETURNING run_id)
     SELECT (SELECT count(*) FROM ev)::int AS marked, (SELECT count(*) FROM ins)::int AS inserted`,
    [`run_${id}`, `evt_${id}`, now],
  );
  await pool.query(
    `UPDATE runs SET status = 'running', owner = 'floor', lease_until = $2, attempts = attempts + 1,
       started_at = COALESCE(started_at, $2), attempt_started_at = $2, next_attempt_at = NULL
     WHERE run_id = $1 AND status = 'queued' RETURNING *`,
    [`run_${id}`, now],
  );
  await pool.query(
    `UPDATE runs SET status = 'succeeded', lease_until = NULL, finished_at = $2, duration_ms = 0,
       attempt_log = (attempt_log::jsonb || jsonb_build_array($3::jsonb))::text
     WHERE run_id = $1 AND status = 'running' AND owner = 'floor' AND attempts = 1 RETURNING *`,
    [`run_${id}`, now, JSON.stringify({ attempt: 1, at: now, durationMs: 0, outcome: 'succeeded' })],
  );
}

const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next++ < total) await oneRun();
  }),
);
process.stdout.write(JSON.stringify({ runs: total, ms: performance.now() - started }) + '\n');
await pool.end();
