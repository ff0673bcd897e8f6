/** A failure of the live-state store: says what went wrong, on which data dir, and what to do. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: 'locked' | 'in-use' | 'stale-plan' | 'not-found' | 'fenced' | 'io' = 'io',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
