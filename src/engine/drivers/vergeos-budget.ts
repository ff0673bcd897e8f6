/**
 * VergeOS allows 1000 requests per hour per API key. The budget counts every request sent in the last
 * rolling hour and says how long to wait before the next one fits; a 429 pauses every request until its
 * Retry-After has passed.
 */
export const HOUR_MS = 3_600_000;
/** A 429 without a readable Retry-After pauses this long. */
export const DEFAULT_PAUSE_MS = 60_000;

export class RequestBudget {
  private readonly sent: number[] = [];
  private pausedUntil = 0;

  constructor(
    private readonly perHour: number,
    private readonly now: () => Date,
  ) {}

  /** Milliseconds until a request may go out: 0 when it may go now. */
  waitMs(): number {
    const t = this.now().getTime();
    while (this.sent.length > 0 && this.sent[0]! <= t - HOUR_MS) this.sent.shift();
    const pause = Math.max(0, this.pausedUntil - t);
    const full = this.sent.length >= this.perHour ? this.sent[0]! + HOUR_MS - t : 0;
    return Math.max(pause, full);
  }

  /** Counts a request about to be sent. */
  spend(): void {
    this.sent.push(this.now().getTime());
  }

  /** VergeOS answered 429: nothing goes out for `ms`. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now().getTime() + ms);
  }

  /** Requests counted in the current rolling hour. */
  used(): number {
    this.waitMs();
    return this.sent.length;
  }
}
