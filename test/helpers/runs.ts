import type { RunRecord } from '../../src/store/types.js';

/** A queued manual run of `power-on` on gpu-ws-01, with `over` on top. */
export function runRecord(runId: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    task: 'power-on',
    status: 'queued',
    trigger: { kind: 'manual', name: null, event: null },
    target: { objectType: 'vms', name: 'gpu-ws-01' },
    queuedAt: '2026-03-01T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    attempts: 0,
    error: null,
    details: null,
    attemptStartedAt: null,
    nextAttemptAt: null,
    owner: null,
    leaseUntil: null,
    interruptions: 0,
    attemptLog: [],
    delivery: null,
    ...over,
  };
}
