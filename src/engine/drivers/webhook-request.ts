import { headerProblem } from '../../manifest/headers.js';
import type { WebhookSpec } from '../../manifest/types.js';
import { redactCredentials } from '../../text/redact.js';
import { resolveSecret, type ReadFile } from '../secrets.js';
import { retryPolicy, type RetryPolicy } from './backoff.js';
import { signingKey } from './signing.js';

/** A Webhook with its secrets resolved for one delivery. Lives only for that delivery. */
export interface PreparedWebhook {
  url: string;
  headers: Record<string, string>;
  /** One key per signing secret, in the listed order: every one signs (rotation without downtime). */
  signingKeys?: Buffer[];
  allowInsecureCertificates: boolean;
  /** PEM text of the private CA(s) this webhook trusts beside the system's (caFrom). */
  ca?: string;
  timeoutMs: number;
  retries: number;
  /** When re-attempts happen, and the longest Retry-After honoured. */
  policy: RetryPolicy;
  /** Every string an error message must not show: secret values, derived header values, a urlFrom URL. */
  secrets: string[];
}

export const DEFAULT_TIMEOUT_SECONDS = 10;
export const DEFAULT_RETRIES = 3;

/** A stored Webhook that validation would have refused (written by hand, or by another version). */
export class WebhookSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSpecError';
  }
}

/** The header rules of `validate`, again at execution time: a store written by hand must not get around them. */
function refuseBadHeaders(spec: WebhookSpec): void {
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (value === undefined) continue;
    const problem =
      typeof value === 'string' ? headerProblem(name, value) : `header ${name}: its value must be a string`;
    if (problem) throw new WebhookSpecError(problem);
  }
  const apiKeyHeader = spec.auth?.type === 'apiKey' ? spec.auth.apiKey?.header : undefined;
  const problem = apiKeyHeader === undefined ? null : headerProblem(apiKeyHeader, '');
  if (problem) throw new WebhookSpecError(`auth.apiKey: ${problem}`);
}

/**
 * Resolves the URL, auth and signing secret at execution time; throws SecretError naming the reference,
 * or WebhookSpecError (before any secret is read) for headers that must not be sent.
 */
export function prepareWebhook(
  spec: WebhookSpec,
  env: NodeJS.ProcessEnv,
  readFile?: ReadFile,
): PreparedWebhook {
  refuseBadHeaders(spec);
  const secrets: string[] = [];
  const secret = (ref: Parameters<typeof resolveSecret>[0]): string => {
    const value = resolveSecret(ref, env, readFile);
    secrets.push(value);
    return value;
  };

  let url = spec.url ?? '';
  if (spec.urlFrom) {
    url = secret(spec.urlFrom);
    secrets.push(...urlParts(url));
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {}))
    if (value !== undefined) headers[name] = value;
  // Without it axios would label a string body form-encoded; receivers expect JSON.
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }

  const auth = spec.auth ?? { type: 'none' };
  if (auth.type === 'bearer' && auth.tokenFrom) {
    headers.authorization = `Bearer ${secret(auth.tokenFrom)}`;
  } else if (auth.type === 'apiKey' && auth.apiKey) {
    headers[auth.apiKey.header ?? 'X-API-Key'] = secret(auth.apiKey.valueFrom);
  } else if (auth.type === 'basic' && auth.passwordFrom) {
    const credentials = Buffer.from(`${auth.username ?? ''}:${secret(auth.passwordFrom)}`, 'utf8').toString(
      'base64',
    );
    headers.authorization = `Basic ${credentials}`;
    secrets.push(credentials);
  }

  return {
    url,
    headers,
    ...(spec.signingSecretFrom
      ? {
          signingKeys: (Array.isArray(spec.signingSecretFrom)
            ? spec.signingSecretFrom
            : [spec.signingSecretFrom]
          ).map((ref) => signingKey(secret(ref), ref)),
        }
      : {}),
    allowInsecureCertificates: spec.allowInsecureCertificates ?? false,
    // A CA certificate is public: read like a secret (allowlist, {file}), but not masked in messages.
    ...(spec.caFrom ? { ca: resolveSecret(spec.caFrom, env, readFile) } : {}),
    timeoutMs: (spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    retries: spec.retries ?? DEFAULT_RETRIES,
    policy: retryPolicy(spec.retrySchedule),
    secrets,
  };
}

/** A secret URL leaks through its path (Slack's token) as much as through its whole text. */
function urlParts(url: string): string[] {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname + parsed.search;
    return [parsed.href, ...(path.length > 1 ? [path] : [])];
  } catch {
    return [];
  }
}

/** `text` without the delivery's secrets, and without the userinfo of any URL in it. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s) out = out.split(s).join('[redacted]');
  }
  return redactCredentials(out);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  ECONNRESET: 'connection reset by the peer',
};

/** A transport failure in words (never with request headers); permanent when retrying cannot help. */
export function describeRequestError(err: unknown): { message: string; permanent: boolean } {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    const hint = 'fix the certificate, or set allowInsecureCertificates for a dev/test endpoint';
    return { message: `TLS certificate rejected (${code}); ${hint}`, permanent: true };
  }
  const words = typeof code === 'string' ? NETWORK_WORDS[code] : undefined;
  if (words) return { message: `${words} (${String(code)})`, permanent: false };
  if (code === 'ERR_INVALID_URL') return { message: 'the URL is not valid', permanent: true };
  if (code === 'ERR_TASKOPS_DESTINATION_REFUSED') return { message, permanent: true };
  const text = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  return { message: text, permanent: false };
}
