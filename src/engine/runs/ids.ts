import { hash, randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Run ids for event and schedule runs are derived from what caused them, so processing the same
 * event or firing twice (after a crash between steps) finds the run already there instead of doubling it.
 */
export function derivedRunId(...parts: Array<string | null>): string {
  // crypto.hash: one call, a third of createHash().update().digest() per run.
  const digest = hash('sha256', parts.map((p) => p ?? '\u0000').join('\u0001'), 'hex');
  return `run_${digest.slice(0, 24)}`;
}

/**
 * A derived run id that starts with the time of its cause (the event's or the slot's instant in ms, hex), so
 * runs stored together sit together in the store's run-id index: a commit then writes a few index pages, not
 * one page per run (sha256 alone scatters them, and every scattered page is written again at each commit).
 */
export function causedRunId(at: string, ...parts: Array<string | null>): string {
  const ms = Date.parse(at);
  // 11 hex digits last until the year 2527; the id keeps the old length and alphabet (24 hex digits).
  const time = (Number.isFinite(ms) && ms >= 0 ? ms : 0).toString(16).padStart(11, '0').slice(-11);
  return `run_${time}${derivedRunId(at, ...parts).slice(4, 17)}`;
}

export function manualRunId(): string {
  return `run_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/** Time-ordered, unique event ids. Whether the engine emitted the event is data on it (`origin`), not in its id. */
export function newEventId(now: Date): string {
  const time = now.getTime().toString(36).padStart(9, '0');
  return `evt_${time}${randomHex12()}`;
}

// 12 random hex digits per id, cut from a pooled buffer: randomUUID() builds its 36 characters from about
// twenty concatenated pieces, ≈ 700 bytes of garbage per id, and every run makes one or two ids.
const RANDOM_POOL_BYTES = 6 * 512;
let randomPool = Buffer.alloc(0);
let randomAt = 0;

function randomHex12(): string {
  if (randomAt + 6 > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomAt = 0;
  }
  const hex = randomPool.toString('hex', randomAt, randomAt + 6);
  randomAt += 6;
  return hex;
}

/** One engine instance: the owner of the runs it executes, readable in the store (`host/pid/random`). */
export function engineInstanceId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/** A replica's id, fit for file names and metric labels: `host-pid-random`. */
export function replicaId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomUUID().slice(0, 6)}`;
}
