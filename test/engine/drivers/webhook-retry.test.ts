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
import { recordingDeps, webhookTask } from './webhook-fixtures.js';

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

describe('webhook driver: retries', () => {
  it('retries 500s with exponential, jittered delays and succeeds on a later 2xx', async () => {
    receiver.script({ status: 500 }, { status: 502 }, { status: 503 });
    const { deps, result } = deliverWith({ retries: 3 });
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: true, attempts: 4 });
    expect(deps.sleeps).toEqual([500, 1000, 2000]);
    const attempts = (outcome.details as { attempts: Array<{ status: number }> }).attempts;
    expect(attempts.map((a) => a.status)).toEqual([500, 502, 503, 200]);
  });

  it('gives up after the configured retries and reports the delivery as exhausted', async () => {
    receiver.script({ status: 500 }, { status: 500 }, { status: 500 });
    const { deps, result } = deliverWith({ retries: 2 });
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, attempts: 3, exhausted: true });
    expect(outcome.error).toBe(
      'webhook test-hook: gave up after 3 attempts; last: HTTP 500 Internal Server Error',
    );
    expect(deps.sleeps).toEqual([500, 1000]);
    expect(receiver.requests).toHaveLength(3);
  });

  it('makes exactly one attempt with retries 0', async () => {
    receiver.script({ status: 500 });
    const { deps, result } = deliverWith({ retries: 0 });
    expect(await result).toMatchObject({ ok: false, attempts: 1, exhausted: true });
    expect(deps.sleeps).toEqual([]);
  });

  it('waits as long as Retry-After says on 429 and 503 (seconds or date), not on 500', async () => {
    receiver.script(
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': 'Thu, 16 Oct 2025 15:38:27 GMT' } },
      { status: 500, headers: { 'retry-after': '9' } },
    );
    const { deps, result } = deliverWith({ retries: 3 });
    expect((await result).ok).toBe(true);
    expect(deps.sleeps).toEqual([7000, 20_000, 2000]);
  });

  it('caps a long Retry-After at 60 s', async () => {
    receiver.script({ status: 429, headers: { 'retry-after': '86400' } });
    const { deps, result } = deliverWith({ retries: 1 });
    await result;
    expect(deps.sleeps).toEqual([60_000]);
  });

  it.each([410, 400, 404, 422])('gives up at once on %i', async (status) => {
    receiver.script({ status });
    const { deps, result } = deliverWith({ retries: 5 });
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(outcome.exhausted).toBeUndefined();
    expect(outcome.error).toMatch(new RegExp(`HTTP ${status}.*not retried`));
    expect(deps.sleeps).toEqual([]);
  });

  it.each([408, 429])('retries %i', async (status) => {
    receiver.script({ status });
    const { result } = deliverWith({ retries: 1 });
    expect(await result).toMatchObject({ ok: true, attempts: 2 });
  });

  it('does not follow a redirect: a POST must not turn into a GET elsewhere', async () => {
    receiver.script({ status: 302, headers: { location: '/elsewhere' } });
    const { result } = deliverWith({ retries: 3 });
    expect(await result).toMatchObject({ ok: false, attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('retries when nothing listens, then reports exhaustion', async () => {
    const closed = receiver.url;
    await receiver.close();
    receiver = await startReceiver();
    const { result } = deliverWith({ url: closed, retries: 1 });
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, attempts: 2, exhausted: true });
    expect(outcome.error).toMatch(/ECONNREFUSED/);
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

  it('stops while waiting for the next retry when the run is aborted', async () => {
    receiver.script({ status: 500 });
    const controller = new AbortController();
    const deps = recordingDeps({ sleep: undefined, random: () => 0.9 });
    const started = Date.now();
    const { result } = deliverWith({ retries: 3 }, deps, controller.signal);
    setTimeout(() => controller.abort('replaced by a newer run'), 100);
    const outcome = await result;
    expect(outcome.error).toBe('webhook test-hook: stopped while waiting to retry: replaced by a newer run');
    expect(Date.now() - started).toBeLessThan(800);
  });
});
