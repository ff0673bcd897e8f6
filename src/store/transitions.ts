import type { RunAttempt, RunClaim, RunOutcome, RunRecord, RunRetry } from './types.js';

/**
 * A run transition's result derived from the record the caller last got from the store, instead of read back
 * from the row (reading the whole row back was half the cost of a claim or a finish). Exact because of the
 * transitions' guards: a run leaves `queued` once and never returns to it, and only its owner writes a
 * running run at its current attempt (lease renewals aside, which finishing and delaying overwrite). Each
 * mirrors its UPDATE statement column by column; JSON columns take the text the statement was given, parsed,
 * as a read would. Not for a claim from `delayed`: another engine may have taken and delayed the run since.
 */

/** queued → running, as the claim statement sets it. `deliveryJson`: the claim's delivery as bound. */
export function claimedRecord(seen: RunRecord, claim: RunClaim, deliveryJson: string | null): RunRecord {
  const at = claim.at.toISOString();
  return {
    ...seen,
    status: 'running',
    owner: claim.owner,
    leaseUntil: claim.leaseUntil.toISOString(),
    attempts: seen.attempts + 1,
    startedAt: seen.startedAt ?? at,
    attemptStartedAt: at,
    nextAttemptAt: null,
    delivery: seen.delivery ?? (deliveryJson === null ? null : JSON.parse(deliveryJson)),
  };
}

/** running → delayed. `attemptJson`/`detailsJson`: the attempt and details as bound. */
export function delayedRecord(
  seen: RunRecord,
  retry: RunRetry,
  attemptJson: string,
  detailsJson: string | null,
): RunRecord {
  return {
    ...seen,
    status: 'delayed',
    owner: null,
    leaseUntil: null,
    nextAttemptAt: retry.nextAttemptAt.toISOString(),
    interruptions: seen.interruptions + (retry.attempt.outcome === 'interrupted' ? 1 : 0),
    attemptLog: [...seen.attemptLog, JSON.parse(attemptJson) as RunAttempt],
    error: retry.error,
    details: detailsJson === null ? null : JSON.parse(detailsJson),
  };
}

/** running → a final state. */
export function finishedRecord(
  seen: RunRecord,
  outcome: RunOutcome,
  attemptJson: string,
  detailsJson: string | null,
): RunRecord {
  return {
    ...seen,
    status: outcome.status,
    leaseUntil: null,
    finishedAt: outcome.at.toISOString(),
    durationMs: outcome.durationMs,
    attempts: seen.attempts - (outcome.acted === false ? 1 : 0),
    interruptions: seen.interruptions + (outcome.attempt.outcome === 'interrupted' ? 1 : 0),
    attemptLog: [...seen.attemptLog, JSON.parse(attemptJson) as RunAttempt],
    error: outcome.error,
    details: detailsJson === null ? null : JSON.parse(detailsJson),
  };
}

/** Whether `seen` may stand for the row of `runId` in a transition (see above). */
export function derivable(seen: RunRecord | undefined, runId: string): seen is RunRecord {
  return seen !== undefined && seen.runId === runId;
}
