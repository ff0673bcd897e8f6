/** Exponential backoff with full jitter: base 1 s, factor 2, capped at 60 s. */
export const BACKOFF = { baseMs: 1000, factor: 2, capMs: 60_000 } as const;
/** A Retry-After beyond this is shortened: a run should not sit idle for hours. */
export const RETRY_AFTER_CAP_MS = 60_000;

/** Delay before re-attempt `retry` (1 = the first re-attempt): uniform in [0, min(cap, base·2^(retry-1))). */
export function backoffDelay(retry: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF.capMs, BACKOFF.baseMs * BACKOFF.factor ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now (capped); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now.getTime());
  }
  return Math.min(ms, RETRY_AFTER_CAP_MS);
}

export type StatusVerdict = 'success' | 'retry' | 'give-up';

/**
 * 2xx succeeds. 5xx, 408 and 429 may pass: retry. Any other answer (410 Gone, other 4xx, an unfollowed
 * 3xx) will be the same next time: give up at once.
 */
export function classifyStatus(status: number): StatusVerdict {
  if (status >= 200 && status < 300) return 'success';
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  return 'give-up';
}

/** Statuses whose Retry-After header is honoured. */
export const honoursRetryAfter = (status: number): boolean => status === 429 || status === 503;
