import { firingFromRow, runToRow, type FiringRow } from './rows.js';
import type { Queryable } from './postgres-runs.js';
import type { FiringRecord, RunRecord, SlotFiring } from './types.js';

/*
 * The firing ledger in PostgreSQL. Claiming a slot is one statement: the slot, its watermark and (with runs)
 * the slot's runs commit together. DO NOTHING: the loser of a race learns it lost from the count, with no
 * error and no second row; a second INSERT of the same slot waits for the first to commit, then does nothing.
 * GREATEST: a slot recorded after a later one (a slow replica, a clock stepped back) never moves the
 * watermark back. Data-modifying WITH parts always run to completion, referenced or not.
 */
const CLAIM_SLOT = `won AS (
    INSERT INTO firings (schedule, scheduled_for, outcome, catch_up, recorded_at)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule, scheduled_for) DO NOTHING
    RETURNING schedule, scheduled_for
  ), mark AS (
    INSERT INTO firing_watermarks (schedule, scheduled_for) SELECT schedule, scheduled_for FROM won
    ON CONFLICT (schedule) DO UPDATE
      SET scheduled_for = GREATEST(firing_watermarks.scheduled_for, excluded.scheduled_for)
    RETURNING 1
  )`;

const SQL = {
  recordFiring: `WITH ${CLAIM_SLOT}
    SELECT (SELECT count(*) FROM won)::int AS won, (SELECT count(*) FROM mark)::int AS marked`,
  // The runs go in only when the slot was won; rows arrive as JSON named by column (runToRow).
  recordFiringWithRuns: `WITH ${CLAIM_SLOT}, ins AS (
      INSERT INTO runs SELECT r.* FROM jsonb_array_elements($6::jsonb) WITH ORDINALITY AS e(doc, n),
        jsonb_populate_record(NULL::runs, e.doc) AS r
      WHERE EXISTS (SELECT 1 FROM won)
      ORDER BY e.n
      ON CONFLICT (run_id) DO NOTHING RETURNING run_id
    )
    SELECT (SELECT count(*) FROM mark)::int AS marked, COALESCE((SELECT array_agg(run_id) FROM ins), '{}') AS inserted`,
  watermarks: 'SELECT schedule, scheduled_for FROM firing_watermarks',
  listAll: 'SELECT * FROM firings ORDER BY scheduled_for, schedule',
  listOne: 'SELECT * FROM firings WHERE schedule = $1 ORDER BY scheduled_for',
} as const;

const slotParams = (firing: SlotFiring) => [
  firing.schedule,
  firing.scheduledFor.toISOString(),
  firing.outcome,
  firing.catchUp ? 1 : 0,
  firing.recordedAt.toISOString(),
];

export const pgFirings = {
  /** True when this call recorded the slot. */
  async record(db: Queryable, firing: SlotFiring): Promise<boolean> {
    const { rows } = await db.query<{ won: number }>(SQL.recordFiring, slotParams(firing));
    return rows[0]!.won > 0;
  },

  /** The slot and its runs in one statement; one boolean per run, all false when the slot was taken. */
  async recordWithRuns(db: Queryable, firing: SlotFiring, runs: readonly RunRecord[]): Promise<boolean[]> {
    const { rows } = await db.query<{ inserted: string[] }>(SQL.recordFiringWithRuns, [
      ...slotParams(firing),
      JSON.stringify(runs.map(runToRow)),
    ]);
    const inserted = new Set(rows[0]!.inserted);
    // A run id given twice is inserted once: the first stands, as with one insert after another.
    const seen = new Set<string>();
    return runs.map((r) => {
      const first = inserted.has(r.runId) && !seen.has(r.runId);
      seen.add(r.runId);
      return first;
    });
  },

  async latest(db: Queryable): Promise<Map<string, Date>> {
    const { rows } = await db.query<{ schedule: string; scheduled_for: string }>(SQL.watermarks);
    return new Map(rows.map((r) => [r.schedule, new Date(r.scheduled_for)]));
  },

  async list(db: Queryable, schedule?: string): Promise<FiringRecord[]> {
    const { rows } =
      schedule === undefined
        ? await db.query<FiringRow>(SQL.listAll)
        : await db.query<FiringRow>(SQL.listOne, [schedule]);
    return rows.map(firingFromRow);
  },
};
