import { describe, expect, it } from 'vitest';
import { backoffDelay, createWebhookDriver, parseRetryAfter } from '../../../src/engine/drivers/index.js';
import type { WebhookSpec } from '../../../src/manifest/types.js';
import { BODY_BOUND } from '../../../src/engine/drivers/webhook.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { startReceiver } from '../../helpers/http-receiver.js';
import { ANY_SECRET, eachTestReceiver, recordingDeps, webhookTask } from './webhook-fixtures.js';

const peer = eachTestReceiver();

function deliverWith(spec: Partial<WebhookSpec>, deps = recordingDeps(), signal?: AbortSignal) {
  peer.driver = createWebhookDriver(deps);
  const req = driverRequest(webhookTask(), {
    webhookSpec: { url: peer.receiver.url, ...spec },
    ...(signal ? { signal } : {}),
  });
  return { deps, result: peer.driver.run(req) };
}

describe('backoff', () => {
  it('doubles from 1 s up to the 60 s cap, scaled by full jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((retry) => backoffDelay(retry, () => 0.5));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(20, () => 1 - 2 ** -53)).toBe(59_999);
  });

  it('reads Retry-After as seconds or an HTTP date, capped at 60 s', () => {
    const now = new Date('2025-10-16T15:38:07Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 16 Oct 2025 15:38:27 GMT', now)).toBe(20_000);
    expect(parseRetryAfter('Thu, 16 Oct 2025 15:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('3600', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

/** Calls the driver once per attempt, as the engine does, passing back the previous attempt's details. */
async function attempts(spec: Partial<WebhookSpec>, count: number) {
  peer.driver = createWebhookDriver(recordingDeps());
  const base = driverRequest(webhookTask(), { webhookSpec: { url: peer.receiver.url, ...spec } });
  const delivery = peer.driver.prepare!(base)!;
  const results = [];
  let previous: unknown = null;
  for (let attempt = 1; attempt <= count; attempt++) {
    const result = await peer.driver.run({ ...base, attempt, delivery, previous });
    results.push(result);
    previous = result.details;
    if (result.retryInMs === undefined) break;
  }
  return results;
}

describe('webhook driver: one attempt per call', () => {
  it('asks for a retry after 500s with exponential, jittered delays, and succeeds on a later 2xx', async () => {
    peer.receiver.script({ status: 500 }, { status: 502 }, { status: 503 });
    const results = await attempts({ retries: 3 }, 10);
    expect(results.map((r) => [r.ok, r.retryInMs])).toEqual([
      [false, 500],
      [false, 1000],
      [false, 2000],
      [true, undefined],
    ]);
    expect(results[0]!.error).toBe('webhook test-hook: attempt 1 failed: HTTP 500 Internal Server Error');
    const attemptsSeen = (results[3]!.details as { attempts: Array<{ attempt: number; status: number }> })
      .attempts;
    expect(attemptsSeen.map((a) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 502],
      [3, 503],
      [4, 200],
    ]);
  });

  it('never waits itself: a failed attempt returns at once', async () => {
    peer.receiver.script({ status: 503, headers: { 'retry-after': '60' } });
    const started = Date.now();
    const [result] = await attempts({ retries: 3 }, 1);
    expect(result).toMatchObject({ ok: false, retryInMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up after the configured retries and reports the delivery as exhausted', async () => {
    peer.receiver.script({ status: 500 }, { status: 500 }, { status: 500 });
    const results = await attempts({ retries: 2 }, 10);
    expect(results).toHaveLength(3);
    expect(results[2]).toMatchObject({ ok: false, exhausted: true });
    expect(results[2]!.retryInMs).toBeUndefined();
    expect(results[2]!.error).toBe(
      'webhook test-hook: gave up after 3 attempts; last: HTTP 500 Internal Server Error',
    );
    expect(peer.receiver.requests).toHaveLength(3);
  });

  it('makes exactly one attempt with retries 0', async () => {
    peer.receiver.script({ status: 500 });
    const results = await attempts({ retries: 0 }, 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, attempts: 1, exhausted: true });
  });

  it('sends the body and webhook-id fixed before the first attempt on every attempt', async () => {
    const key = 'whsec_' + Buffer.from('a signing key of 32 bytes, ok!!!').toString('base64');
    peer.driver = createWebhookDriver(recordingDeps({ env: { SECRET: key } }), { secrets: ANY_SECRET });
    const base = driverRequest(webhookTask(), {
      webhookSpec: { url: peer.receiver.url, retries: 2, signingSecretFrom: { env: 'SECRET' } },
    });
    const delivery = { id: 'msg_fixed', body: '{"text":"rendered once"}' };
    peer.receiver.script({ status: 500 });
    await peer.driver.run({ ...base, attempt: 1, delivery });
    await peer.driver.run({ ...base, attempt: 2, delivery });
    expect(peer.receiver.requests.map((r) => [r.headers['webhook-id'], r.body])).toEqual([
      ['msg_fixed', '{"text":"rendered once"}'],
      ['msg_fixed', '{"text":"rendered once"}'],
    ]);
  });

  it('asks to wait as long as Retry-After says on 429 and 503 (seconds or date), not on 500', async () => {
    peer.receiver.script(
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': 'Thu, 16 Oct 2025 15:38:27 GMT' } },
      { status: 500, headers: { 'retry-after': '9' } },
    );
    const results = await attempts({ retries: 3 }, 10);
    expect(results.map((r) => r.retryInMs)).toEqual([7000, 20_000, 2000, undefined]);
    expect(results[3]!.ok).toBe(true);
  });

  it('caps a long Retry-After at 60 s', async () => {
    peer.receiver.script({ status: 429, headers: { 'retry-after': '86400' } });
    const [result] = await attempts({ retries: 1 }, 1);
    expect(result!.retryInMs).toBe(60_000);
  });

  it.each([400, 404, 409, 422, 501])(
    'retries %i like any non-2xx answer (Standard Webhooks)',
    async (status) => {
      peer.receiver.script({ status });
      const results = await attempts({ retries: 5 }, 10);
      expect(results.map((r) => r.ok)).toEqual([false, true]);
      expect(results[0]!.retryInMs).toBe(500);
      expect(results[0]!.error).toMatch(new RegExp(`attempt 1 failed: HTTP ${status}`));
    },
  );

  it('stops at a 410 Gone and asks the engine to disable the webhook', async () => {
    peer.receiver.script({ status: 410 });
    const results = await attempts({ retries: 5 }, 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      ok: false,
      attempts: 1,
      disable: { status: 410, at: '2025-10-16T15:38:07.000Z' },
    });
    expect(results[0]!.retryInMs).toBeUndefined();
    expect(results[0]!.exhausted).toBeUndefined();
    expect(results[0]!.error).toMatch(/HTTP 410 Gone: the receiver says the endpoint is gone/);
  });

  it.each([408, 429])('retries %i', async (status) => {
    peer.receiver.script({ status });
    const results = await attempts({ retries: 1 }, 10);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  it('does not follow a redirect: the POST is retried at its own URL, never sent elsewhere', async () => {
    peer.receiver.script({ status: 302, headers: { location: '/elsewhere' } });
    const results = await attempts({ retries: 3 }, 10);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(peer.receiver.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/'],
      ['POST', '/'],
    ]);
  });

  it('retries when nothing listens, then reports exhaustion', async () => {
    const closed = peer.receiver.url;
    await peer.receiver.close();
    peer.receiver = await startReceiver();
    const results = await attempts({ url: closed, retries: 1 }, 10);
    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ ok: false, exhausted: true });
    expect(results[1]!.error).toMatch(/ECONNREFUSED/);
  });
});

describe('webhook driver: timeouts and stopping', () => {
  it('fails an attempt at timeoutSeconds when no answer comes', async () => {
    peer.receiver.script({ hang: 'headers' });
    const started = Date.now();
    const result = await deliverWith({ timeoutSeconds: 3, retries: 0 }).result;
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: expect.stringMatching(/no complete response within 3 s/),
    });
    expect(elapsed).toBeGreaterThanOrEqual(2900);
    expect(elapsed).toBeLessThan(6000);
  });

  it('counts a 2xx whose body never ends as delivered: read for a bound, then closed, never re-sent', async () => {
    peer.receiver.script({ hang: 'body', status: 200 });
    const started = Date.now();
    const results = await attempts({ timeoutSeconds: 30, retries: 3 }, 10);
    const elapsed = Date.now() - started;
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, attempts: 1 });
    expect((results[0]!.details as { attempts: Array<{ status?: number }> }).attempts[0]?.status).toBe(200);
    expect(peer.receiver.requests).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(BODY_BOUND.ms - 100);
    expect(elapsed).toBeLessThan(BODY_BOUND.ms + 2000);
  });

  it('closes a 2xx body larger than the bound without waiting for its end', async () => {
    peer.receiver.script({ status: 200, body: 'x'.repeat(BODY_BOUND.bytes * 4) });
    const results = await attempts({ retries: 3 }, 10);
    expect(results.map((r) => r.ok)).toEqual([true]);
    expect(peer.receiver.requests).toHaveLength(1);
  });

  it('stops a hanging attempt as soon as the run is aborted', async () => {
    peer.receiver.script({ hang: 'headers' });
    const controller = new AbortController();
    const { result } = deliverWith({ timeoutSeconds: 60, retries: 5 }, recordingDeps(), controller.signal);
    setTimeout(() => controller.abort(new Error('task timeout after 300 s')), 100);
    const outcome = await result;
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      error: 'webhook test-hook: stopped: task timeout after 300 s',
    });
    expect(outcome.exhausted).toBeUndefined();
  });
});

describe('webhook driver: retry policy', () => {
  const SVIX: [string, ...string[]] = ['5s', '5m', '30m', '2h', '5h', '10h', '10h'];

  it('waits the listed intervals, exactly, the last one repeating', async () => {
    for (let i = 0; i < 9; i++) peer.receiver.script({ status: 503 });
    const results = await attempts({ retries: 9, retrySchedule: { intervals: SVIX } }, 10);
    const h = 3_600_000;
    expect(results.map((r) => r.retryInMs)).toEqual([
      5000,
      300_000,
      1_800_000,
      2 * h,
      5 * h,
      10 * h,
      10 * h,
      10 * h,
      10 * h,
      undefined,
    ]);
  });

  it('backs off exponentially from interval by factor up to maximum, with or without jitter', async () => {
    for (let i = 0; i < 5; i++) peer.receiver.script({ status: 500 });
    const schedule = { interval: '1m', factor: 3, maximum: '5m', jitter: 'none' as const };
    const results = await attempts({ retries: 5, retrySchedule: schedule }, 10);
    expect(results.map((r) => r.retryInMs)).toEqual([60_000, 180_000, 300_000, 300_000, 300_000, undefined]);
  });

  it('honours Retry-After up to the policy maximum, beyond the default 60 s cap', async () => {
    peer.receiver.script(
      { status: 503, headers: { 'retry-after': '7200' } },
      { status: 429, headers: { 'retry-after': '86400' } },
    );
    const results = await attempts({ retries: 3, retrySchedule: { intervals: SVIX } }, 10);
    expect(results.map((r) => r.retryInMs)).toEqual([7_200_000, 36_000_000, undefined]);
  });
});
