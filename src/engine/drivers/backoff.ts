import { parseDuration } from '../../config/duration.js';
import type { WebhookSpec } from '../../manifest/types.js';

/** The default schedule: base 1 s, factor 2, capped at 60 s, full jitter (as before policies existed). */
export const BACKOFF = { baseMs: 1000, factor: 2, capMs: 60_000 } as const;
/** Without a schedule, a Retry-After beyond this is shortened: a run should not sit idle for hours. */
export const RETRY_AFTER_CAP_MS = 60_000;

/** When re-attempts happen: a list of waits (the last repeats), or exponential backoff with a cap. */
export type RetryPolicy =
  | { kind: 'intervals'; intervalsMs: number[]; maximumMs: number; jitter: boolean }
  | { kind: 'exponential'; baseMs: number; factor: number; maximumMs: number; jitter: boolean };

/** The engine config's retrySchedule shape, shared by webhooks and the SMTP settings. */
export type RetrySchedule = NonNullable<WebhookSpec['retrySchedule']>;

export const DEFAULT_POLICY: RetryPolicy = {
  kind: 'exponential',
  baseMs: BACKOFF.baseMs,
  factor: BACKOFF.factor,
  maximumMs: BACKOFF.capMs,
  jitter: true,
};

/** Validation checked the durations; a store written by hand falls back to the default for what it garbles. */
const ms = (text: string | undefined, fallback: number): number =>
  (text === undefined ? undefined : parseDuration(text)) ?? fallback;

export function retryPolicy(schedule: RetrySchedule | undefined): RetryPolicy {
  if (!schedule) return DEFAULT_POLICY;
  if (schedule.intervals && schedule.intervals.length > 0) {
    const intervalsMs = schedule.intervals.map((i) => ms(i, BACKOFF.baseMs));
    return {
      kind: 'intervals',
      intervalsMs,
      maximumMs: ms(schedule.maximum, Math.max(...intervalsMs)),
      jitter: schedule.jitter === 'full',
    };
  }
  return {
    kind: 'exponential',
    baseMs: ms(schedule.interval, BACKOFF.baseMs),
    factor: schedule.factor ?? BACKOFF.factor,
    maximumMs: ms(schedule.maximum, BACKOFF.capMs),
    jitter: schedule.jitter !== 'none',
  };
}

/** Delay before re-attempt `retry` (1 = the first re-attempt) under `policy`; with jitter, uniform in [0, wait). */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const wait =
    policy.kind === 'intervals'
      ? policy.intervalsMs[Math.min(retry, policy.intervalsMs.length) - 1]!
      : policy.baseMs * policy.factor ** (retry - 1);
  const capped = Math.min(policy.maximumMs, wait);
  return policy.jitter ? Math.floor(random() * capped) : capped;
}

/** The default policy's delay: uniform in [0, min(cap, base·2^(retry-1))). */
export function backoffDelay(retry: number, random: () => number): number {
  return retryDelay(DEFAULT_POLICY, retry, random);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now (capped); undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | undefined,
  now: Date,
  capMs: number = RETRY_AFTER_CAP_MS,
): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let wait: number;
  if (/^\d+$/.test(text)) wait = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    wait = Math.max(0, at - now.getTime());
  }
  return Math.min(wait, capMs);
}

export type StatusVerdict = 'success' | 'retry' | 'disable';

/**
 * 2xx succeeds. 410 Gone: the receiver says the endpoint is gone for good, so the webhook is disabled
 * (Standard Webhooks). Any other answer, 4xx and unfollowed 3xx included, is a failure to retry, as the spec asks.
 */
export function classifyStatus(status: number): StatusVerdict {
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'disable';
  return 'retry';
}

/** Statuses whose Retry-After header is honoured. */
export const honoursRetryAfter = (status: number): boolean => status === 429 || status === 503;
