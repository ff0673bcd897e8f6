import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  backoffDelay,
  createWebhookDriver,
  parseRetryAfter,
  type Driver,
} from '../../../src/engine/drivers/index.js';
import type { WebhookSpec } from '../../../src/manifest/types.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { startReceiver, type Receiver } from '../../helpers/http-receiver.js';
import { ANY_SECRET, recordingDeps, webhookTask } from './webhook-fixtures.js';

let receiver: Receiver;
let driver: Driver | undefined;

beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await driver?.close?.();
  driver = undefined;
  await receiver.close();
});

function deliverWith(spec: Partial<WebhookSpec>, deps = recordingDeps(), signal?: AbortSignal) {
  driver = createWebhookDriver(deps);
  const req = driverRequest(webhookTask(), {
    webhookSpec: { url: receiver.url, ...spec },
    ...(signal ? { signal } : {}),
  });
  return { deps, result: driver.run(req) };
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
  driver = createWebhookDriver(recordingDeps());
  const base = driverRequest(webhookTask(), { webhookSpec: { url: receiver.url, ...spec } });
  const delivery = driver.prepare!(base)!;
  const results = [];
  let previous: unknown = null;
  for (let attempt = 1; attempt <= count; attempt++) {
    const result = await driver.run({ ...base, attempt, delivery, previous });
    results.push(result);
    previous = result.details;
    if (result.retryInMs === undefined) break;
  }
  return results;
}

describe('webhook driver: one attempt per call', () => {
  it('asks for a retry after 500s with exponential, jittered delays, and succeeds on a later 2xx', async () => {
    receiver.script({ status: 500 }, { status: 502 }, { status: 503 });
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
    receiver.script({ status: 503, headers: { 'retry-after': '60' } });
    const started = Date.now();
    const [result] = await attempts({ retries: 3 }, 1);
    expect(result).toMatchObject({ ok: false, retryInMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up after the configured retries and reports the delivery as exhausted', async () => {
    receiver.script({ status: 500 }, { status: 500 }, { status: 500 });
    const results = await attempts({ retries: 2 }, 10);
    expect(results).toHaveLength(3);
    expect(results[2]).toMatchObject({ ok: false, exhausted: true });
    expect(results[2]!.retryInMs).toBeUndefined();
    expect(results[2]!.error).toBe(
      'webhook test-hook: gave up after 3 attempts; last: HTTP 500 Internal Server Error',
    );
    expect(receiver.requests).toHaveLength(3);
  });

  it('makes exactly one attempt with retries 0', async () => {
    receiver.script({ status: 500 });
    const results = await attempts({ retries: 0 }, 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, attempts: 1, exhausted: true });
  });

  it('sends the body and webhook-id fixed before the first attempt on every attempt', async () => {
    const key = 'whsec_' + Buffer.from('a signing key of 32 bytes, ok!!!').toString('base64');
    driver = createWebhookDriver(recordingDeps({ env: { SECRET: key } }), { secrets: ANY_SECRET });
    const base = driverRequest(webhookTask(), {
      webhookSpec: { url: receiver.url, retries: 2, signingSecretFrom: { env: 'SECRET' } },
    });
    const delivery = { id: 'msg_fixed', body: '{"text":"rendered once"}' };
    receiver.script({ status: 500 });
    await driver.run({ ...base, attempt: 1, delivery });
    await driver.run({ ...base, attempt: 2, delivery });
    expect(receiver.requests.map((r) => [r.headers['webhook-id'], r.body])).toEqual([
      ['msg_fixed', '{"text":"rendered once"}'],
      ['msg_fixed', '{"text":"rendered once"}'],
    ]);
  });

  it('asks to wait as long as Retry-After says on 429 and 503 (seconds or date), not on 500', async () => {
    receiver.script(
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': 'Thu, 16 Oct 2025 15:38:27 GMT' } },
      { status: 500, headers: { 'retry-after': '9' } },
    );
    const results = await attempts({ retries: 3 }, 10);
    expect(results.map((r) => r.retryInMs)).toEqual([7000, 20_000, 2000, undefined]);
    expect(results[3]!.ok).toBe(true);
  });

  it('caps a long Retry-After at 60 s', async () => {
    receiver.script({ status: 429, headers: { 'retry-after': '86400' } });
    const [result] = await attempts({ retries: 1 }, 1);
    expect(result!.retryInMs).toBe(60_000);
  });

  it.each([410, 400, 404, 422])('gives up at once on %i', async (status) => {
    receiver.script({ status });
    const results = await attempts({ retries: 5 }, 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(results[0]!.exhausted).toBeUndefined();
    expect(results[0]!.retryInMs).toBeUndefined();
    expect(results[0]!.error).toMatch(new RegExp(`HTTP ${status}.*not retried`));
  });

  it.each([408, 429])('retries %i', async (status) => {
    receiver.script({ status });
    const results = await attempts({ retries: 1 }, 10);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  it('does not follow a redirect: a POST must not turn into a GET elsewhere', async () => {
    receiver.script({ status: 302, headers: { location: '/elsewhere' } });
    const results = await attempts({ retries: 3 }, 10);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('retries when nothing listens, then reports exhaustion', async () => {
    const closed = receiver.url;
    await receiver.close();
    receiver = await startReceiver();
    const results = await attempts({ url: closed, retries: 1 }, 10);
    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ ok: false, exhausted: true });
    expect(results[1]!.error).toMatch(/ECONNREFUSED/);
  });
});

describe('webhook driver: timeouts and stopping', () => {
  it('fails an attempt at timeoutSeconds when no answer comes, or when the body never ends', async () => {
    receiver.script({ hang: 'headers' });
    const other = await startReceiver();
    other.script({ hang: 'body', status: 200 });
    try {
      const started = Date.now();
      const noAnswer = deliverWith({ timeoutSeconds: 3, retries: 0 }).result;
      const second = createWebhookDriver(recordingDeps());
      const stalled = second.run(
        driverRequest(webhookTask(), { webhookSpec: { url: other.url, timeoutSeconds: 3, retries: 0 } }),
      );
      const [a, b] = await Promise.all([noAnswer, stalled]);
      const elapsed = Date.now() - started;
      expect(a).toMatchObject({
        ok: false,
        attempts: 1,
        error: expect.stringMatching(/no complete response within 3 s/),
      });
      expect(b).toMatchObject({
        ok: false,
        attempts: 1,
        error: expect.stringMatching(/no complete response within 3 s/),
      });
      expect((b.details as { attempts: Array<{ status?: number }> }).attempts[0]?.status).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(2900);
      expect(elapsed).toBeLessThan(6000);
      await second.close?.();
    } finally {
      await other.close();
    }
  });

  it('stops a hanging attempt as soon as the run is aborted', async () => {
    receiver.script({ hang: 'headers' });
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
