/**
 * The floor of bench/replicas.bench.ts: the transactions of one noop run as the engine issues them (store
 * the event; store the run, already running, and mark the event processed; finish) issued by a bare `pg` pool with BENCH_CONCURRENCY loops in one
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
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO runs (run_id, task, status, trigger_kind, trigger_name, trigger_event, target_object_type,
         target_name, queued_at, attempts, attempt_log)
       VALUES ($1, 'ping', 'running', 'event', 'on-ping', $2, 'jobs', $2, $3, 1, '[]') ON CONFLICT (run_id) DO NOTHING`,
      [`run_${id}`, `evt_${id}`, now],
    );
    await client.query(`UPDATE events SET status = 'processed', processed_at = $1 WHERE id = $2`, [
      now,
      `evt_${id}`,
    ]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  await pool.query(
    `UPDATE runs SET status = 'succeeded', lease_until = NULL, finished_at = $2, duration_ms = 0,
       attempt_log = (attempt_log::jsonb || jsonb_build_array($3::jsonb))::text
     WHERE run_id = $1 AND status = 'running' AND attempts = 1 RETURNING *`,
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
