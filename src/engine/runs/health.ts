/** How well the engine is recording what it does, for `/readyz` and metrics. */
export interface RecordingHealth {
  /** False while some write the engine must make is failing (and being retried). */
  ok: boolean;
  /** Store writes refused since the engine started. */
  writeFailures: number;
  /** Runs whose latest transition is not stored yet. */
  unrecordedRuns: number;
  /** The latest refusal while one is pending, for people: what could not be written, and why. */
  lastError: string | null;
}

/**
 * Counts refused store writes and keeps what is still waiting to be written: runs by id, other writes
 * (`event <id>`, `leases`) by name. Each is healthy again once one of its writes succeeds.
 */
export class RecordingMonitor {
  private failures = 0;
  private readonly runs = new Map<string, string>();
  private readonly others = new Map<string, string>();
  private lastError: string | null = null;

  /** A write about `subject` was refused; `run` says whether the subject is a run id. */
  failed(subject: string, message: string, run: boolean): void {
    this.failures++;
    (run ? this.runs : this.others).set(subject, message);
    this.lastError = message;
  }

  /** A write about `subject` went through, or the engine gave up on it (it then stays counted as a failure). */
  settled(subject: string): void {
    this.runs.delete(subject);
    this.others.delete(subject);
  }

  snapshot(): RecordingHealth {
    const ok = this.runs.size === 0 && this.others.size === 0;
    return {
      ok,
      writeFailures: this.failures,
      unrecordedRuns: this.runs.size,
      lastError: ok ? null : this.lastError,
    };
  }
}
