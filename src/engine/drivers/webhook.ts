import { randomUUID } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { bareAddress } from '../../config/destinations.js';
import { secretPolicy, type SecretPolicy } from '../../manifest/secret-policy.js';
import { expandPayload, parsePayloadTemplate, type PayloadParseResult } from '../../manifest/template.js';
import type { DeliveryIdentity } from '../../store/types.js';
import { describeSecretRef, refusedSecret, SecretError } from '../secrets.js';
import {
  classifyStatus,
  honoursRetryAfter,
  parseRetryAfter,
  retryDelay,
  type StatusVerdict,
} from './backoff.js';
import {
  destinationPolicy,
  GuardedHttpAgent,
  GuardedHttpsAgent,
  type DestinationGuard,
} from './destination-guard.js';
import { onFirstUse } from './lazy.js';
import { signatureHeaders } from './signing.js';
import type { AttemptOutcome, Driver, DriverDeps, DriverRequest, DriverResult } from './types.js';
import { abortReason, unknownAction } from './types.js';
import {
  describeRequestError,
  prepareWebhook,
  redact,
  WebhookSpecError,
  type PreparedWebhook,
} from './webhook-request.js';

interface SendResult {
  status?: number;
  retryAfter?: string;
  error?: string;
  aborted?: boolean;
  /** A transport failure that a retry cannot fix (a rejected certificate). */
  permanent?: boolean;
}

type Verdict = StatusVerdict | 'aborted' | 'give-up';

/** How long, and how much, of a response body is read before the connection is closed: only the status matters. */
export const BODY_BOUND = { ms: 1000, bytes: 64 * 1024 } as const;

/**
 * Reads a response body to its end and drops it, but at most BODY_BOUND: a body that is slow, huge or never
 * ends is cut off by closing the connection. Never rejects: once the status is known, the answer is in.
 */
function settleBody(body: Readable): Promise<void> {
  return new Promise((resolve) => {
    let bytes = 0;
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const cut = () => {
      body.destroy();
      done();
    };
    const timer = setTimeout(cut, BODY_BOUND.ms);
    body.once('end', done);
    body.once('close', done);
    // `on`, not `once`: axios may emit a second error while tearing down, and it must not go unhandled.
    body.on('error', done);
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > BODY_BOUND.bytes) cut();
    });
  });
}

/** The engine config's `webhooks` section: the operator's limits on where deliveries go. */
export interface WebhookSettings {
  allowDestinations?: string[];
  /** The engine config's secrets allowlist: the driver reads only what it allows (nothing by default). */
  secrets?: SecretPolicy;
}

/** Why the URL's host (a name, or a literal address) is refused, before any lookup; null when it may be tried. */
function urlHostRefusal(url: string, guard: DestinationGuard): string | null {
  let host: string;
  try {
    host = bareAddress(new URL(url).hostname);
  } catch {
    return null; // not a URL: the request fails with its own clear error
  }
  return net.isIP(host) ? guard.policy.checkAddress(host, host) : guard.policy.checkName(host);
}

/** The per-attempt outcomes an earlier attempt of the run stored in its details. */
function previousAttempts(previous: unknown): AttemptOutcome[] {
  const attempts = (previous as { attempts?: unknown } | null | undefined)?.attempts;
  return Array.isArray(attempts) ? (attempts as AttemptOutcome[]) : [];
}

/** Built-in driver for objectType webhook: POSTs the task's payload to the task's Webhook, reading only allowed secrets. */
export function createWebhookDriver(deps: DriverDeps = {}, settings: WebhookSettings = {}): Driver {
  const env = deps.env ?? process.env;
  const readFile = deps.readFile;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? (() => new Date());
  const newMessageId = deps.newMessageId ?? (() => `msg_${randomUUID()}`);
  const secrets = settings.secrets ?? secretPolicy(undefined);

  // Every socket is opened by these agents, which check the resolved address first (DNS rebinding included).
  const guard: DestinationGuard = {
    policy: destinationPolicy(settings.allowDestinations),
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  };
  // Keep-alive agents shared by every delivery: reconnecting per delivery costs more than the request.
  const agentOptions = { keepAlive: true, ...deps.httpAgentOptions };
  const httpAgent = new GuardedHttpAgent(agentOptions, guard);
  const httpsAgent = new GuardedHttpsAgent(agentOptions, guard);
  // Only webhooks that opt in use this agent; nothing global changes.
  const insecureAgent = new GuardedHttpsAgent({ ...agentOptions, rejectUnauthorized: false }, guard);
  // One agent per private CA (caFrom), so webhooks that trust it share its connections and nothing else does.
  const caAgents = new Map<string, GuardedHttpsAgent>();
  const httpsAgentFor = (target: PreparedWebhook): GuardedHttpsAgent => {
    if (target.allowInsecureCertificates) return insecureAgent;
    if (!target.ca) return httpsAgent;
    let agent = caAgents.get(target.ca);
    if (!agent) {
      agent = new GuardedHttpsAgent({ ...agentOptions, ca: [...tls.rootCertificates, target.ca] }, guard);
      caAgents.set(target.ca, agent);
    }
    return agent;
  };

  const httpClient = onFirstUse(async () =>
    (await import('axios')).default.create({
      maxRedirects: 0, // a POST must not silently turn into a GET elsewhere; 3xx is a failure
      validateStatus: () => true,
      responseType: 'stream', // drained and dropped: only the status matters, and nothing big is buffered
      decompress: false,
      maxContentLength: -1,
      transformRequest: [(data: unknown) => data],
      headers: { 'user-agent': 'taskops' },
    }),
  );

  // Parsed once per task spec (params object), not once per delivery.
  const templates = new WeakMap<object, PayloadParseResult>();
  const templateFor = (params: Record<string, unknown> | undefined): PayloadParseResult => {
    const cached = params && templates.get(params);
    if (cached) return cached;
    const payload = params?.payload;
    const parsed: PayloadParseResult =
      typeof payload === 'string' || (typeof payload === 'object' && payload !== null)
        ? parsePayloadTemplate(payload)
        : { ok: false, message: 'params.payload is missing' };
    if (params) templates.set(params, parsed);
    return parsed;
  };

  async function send(
    target: PreparedWebhook,
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal,
  ) {
    // Before the timer: loading the client on the first delivery is not the receiver's time.
    const client = await httpClient();
    const controller = new AbortController();
    let timedOut = false;
    let response: Readable | undefined;
    // Aborts the request, or the body once the request has settled: one listener, not one per phase.
    const stop = () => {
      controller.abort();
      response?.destroy(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, target.timeoutMs);
    signal.addEventListener('abort', stop, { once: true });
    const result: SendResult = {};
    try {
      const res = await client.post(target.url, body, {
        headers,
        signal: controller.signal,
        httpAgent,
        httpsAgent: httpsAgentFor(target),
      });
      result.status = res.status;
      const retryAfter: unknown = res.headers['retry-after'];
      if (typeof retryAfter === 'string') result.retryAfter = retryAfter;
      // Answered means done: a 2xx whose body never ends is still delivered, and must not be sent again.
      response = res.data as Readable;
      if (controller.signal.aborted) response.destroy();
      await settleBody(response);
      if (res.status < 200 || res.status >= 300) result.error = `HTTP ${res.status} ${res.statusText}`.trim();
    } catch (err) {
      if (signal.aborted) {
        result.aborted = true;
        result.error = `stopped: ${abortReason(signal)}`;
      } else if (timedOut) {
        result.error = `no complete response within ${target.timeoutMs / 1000} s`;
      } else {
        const described = describeRequestError(err);
        result.error = described.message;
        result.permanent = described.permanent;
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
    if (result.error) result.error = redact(result.error, target.secrets);
    return result;
  }

  function verdictOf(r: SendResult): Verdict {
    if (r.aborted) return 'aborted';
    if (r.status === undefined) return r.permanent ? 'give-up' : 'retry';
    return classifyStatus(r.status);
  }

  /** The body and webhook-id of a delivery, fixed once: the engine stores them and every attempt reuses them. */
  function prepare(req: DriverRequest): DeliveryIdentity | null {
    const template = templateFor(req.task.spec.params);
    if (!template.ok) return null;
    return { id: newMessageId(), body: expandPayload(template.template, req.vars) };
  }

  /** One attempt of the delivery; a retryable failure says when to try again (`retryInMs`), it never waits. */
  async function run(req: DriverRequest): Promise<DriverResult> {
    if (req.task.spec.action !== 'send') return unknownAction('webhook', req.task.spec.action, ['send']);
    const webhook = req.webhook;
    const fail = (error: string): DriverResult => ({ ok: false, attempts: 0, error });
    if (!webhook)
      return fail(`task ${req.task.name}: no Webhook resolved for target ${req.target ?? '(none)'}`);
    const template = templateFor(req.task.spec.params);
    if (!template.ok) return fail(`task ${req.task.name}: ${template.message}`);
    const secretRefused = refusedSecret(webhook.spec, secrets);
    if (secretRefused) return fail(`webhook ${webhook.name}: ${secretRefused.message}`);
    let target: PreparedWebhook;
    try {
      target = prepareWebhook(webhook.spec, env, readFile);
    } catch (err) {
      if (err instanceof SecretError) return fail(`webhook ${webhook.name}: ${err.message}`);
      if (err instanceof WebhookSpecError)
        return fail(`webhook ${webhook.name}: ${err.message}; nothing was sent`);
      throw err;
    }

    if (!/^https?:\/\//i.test(target.url)) {
      const source = webhook.spec.urlFrom
        ? `the URL read from ${describeSecretRef(webhook.spec.urlFrom)}`
        : 'the URL';
      return fail(`webhook ${webhook.name}: ${source} is not an http:// or https:// URL`);
    }
    // The URL's own host is checked before anything is sent, even when a proxy (HTTP_PROXY) makes the connection.
    const hostRefused = urlHostRefusal(target.url, guard);
    if (hostRefused)
      return fail(`webhook ${webhook.name}: ${redact(hostRefused, target.secrets)} (not sent)`);
    const delivery = req.delivery ?? prepare(req)!;
    const attempt = req.attempt ?? 1;
    const messageId = target.signingKeys ? delivery.id : undefined;
    const outcomes: AttemptOutcome[] = [...previousAttempts(req.previous)];
    const result = (ok: boolean, error?: string, more: Partial<DriverResult> = {}): DriverResult => ({
      ok,
      attempts: 1,
      ...(error ? { error: `webhook ${webhook.name}: ${error}` } : {}),
      ...more,
      details: { ...(messageId ? { messageId } : {}), attempts: outcomes },
    });

    if (req.signal.aborted) return { ...result(false, `stopped: ${abortReason(req.signal)}`), attempts: 0 };
    const startedAt = now();
    // A fresh timestamp per attempt (Standard Webhooks allows it); the id and the body stay those of the first.
    const headers =
      target.signingKeys && messageId
        ? { ...target.headers, ...signatureHeaders(target.signingKeys, messageId, startedAt, delivery.body) }
        : target.headers;
    const t0 = performance.now();
    const sent = await send(target, headers, Buffer.from(delivery.body, 'utf8'), req.signal);
    outcomes.push({
      attempt,
      at: startedAt.toISOString(),
      ...(sent.status !== undefined ? { status: sent.status } : {}),
      ...(sent.error ? { error: sent.error } : {}),
      durationMs: Math.round(performance.now() - t0),
    });
    const verdict = verdictOf(sent);
    if (verdict === 'success') return result(true);
    if (verdict === 'aborted') return result(false, sent.error);
    if (verdict === 'give-up')
      return result(false, `${sent.error} (not retried: the answer will not change)`);
    if (verdict === 'disable') {
      const disabledAt = startedAt.toISOString();
      return result(
        false,
        `${sent.error}: the receiver says the endpoint is gone; the webhook is now disabled`,
        {
          disable: { status: 410, at: disabledAt },
        },
      );
    }
    if (attempt > target.retries) {
      const times = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
      return result(false, `gave up after ${times}; last: ${sent.error ?? 'failed'}`, {
        exhausted: true,
        lastError: sent.error ?? 'failed',
      });
    }
    const retryAfter =
      sent.status !== undefined && honoursRetryAfter(sent.status)
        ? parseRetryAfter(sent.retryAfter, now(), target.policy.maximumMs)
        : undefined;
    return result(false, `attempt ${attempt} failed: ${sent.error ?? 'failed'}`, {
      retryInMs: retryAfter ?? retryDelay(target.policy, attempt, random),
    });
  }

  return {
    objectType: 'webhook',
    actions: () => ['send'],
    run,
    prepare,
    async close() {
      httpAgent.destroy();
      httpsAgent.destroy();
      insecureAgent.destroy();
      for (const agent of caAgents.values()) agent.destroy();
    },
  };
}
