/**
 * An AbortController whose controller and signal are made only when the signal is asked for: most runs are
 * never aborted and their driver never listens, and the pair (an EventTarget) was ~1 KB allocated per run.
 * `aborted` and `reason` answer without making them; a signal asked for after the abort starts aborted.
 */
export class LazyAbortController {
  private inner: AbortController | null = null;
  private done = false;
  private why: unknown = undefined;

  get aborted(): boolean {
    return this.done;
  }

  get reason(): unknown {
    return this.why;
  }

  get signal(): AbortSignal {
    if (!this.inner) {
      this.inner = new AbortController();
      if (this.done) this.inner.abort(this.why);
    }
    return this.inner.signal;
  }

  /** As AbortController's: the first reason stays. */
  abort(reason?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.why = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.inner?.abort(this.why);
  }
}
