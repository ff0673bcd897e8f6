import tls from 'node:tls';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { expandTemplate } from '../../manifest/template.js';
import type { EngineConfig } from '../../manifest/types.js';
import { redactCredentials } from '../../text/redact.js';
import { resolveSecret } from '../secrets.js';
import { retryDelay, retryPolicy } from './backoff.js';
import { onFirstUse } from './lazy.js';
import type { Driver, DriverDeps, DriverRequest, DriverResult } from './types.js';
import { abortReason, unknownAction } from './types.js';

export type SmtpConfig = NonNullable<EngineConfig['smtp']>;

interface EmailParams {
  to: string[];
  cc: string[];
  subject: string;
  body: string;
}

const list = (value: unknown): string[] | undefined => {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
};

function readParams(params: Record<string, unknown> | undefined): EmailParams | string {
  const to = list(params?.to);
  const cc = params?.cc === undefined ? [] : list(params.cc);
  if (!to || to.length === 0) return 'params.to must be an address or a list of addresses';
  if (!cc) return 'params.cc must be an address or a list of addresses';
  if (typeof params?.subject !== 'string') return 'params.subject must be text';
  if (typeof params?.body !== 'string') return 'params.body must be text';
  return { to, cc, subject: params.subject, body: params.body };
}

export const DEFAULT_EMAIL_RETRIES = 3;

const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * Whether the connection must be encrypted before anything is sent: as configured, else whenever a user
 * logs in (AUTH) to a host that is not loopback, so a password never crosses a network in plain text.
 */
export function requiresTls(smtp: SmtpConfig): boolean {
  if (smtp.requireTLS !== undefined) return smtp.requireTLS;
  const url = new URL(smtp.url);
  return url.username !== '' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''));
}

/** smtp(s)://[user@]host[:port] → nodemailer options; the password comes only from passwordFrom. */
export function smtpOptions(
  smtp: SmtpConfig,
  password: string | undefined,
  ca?: string,
): SMTPTransport.Options {
  const url = new URL(smtp.url);
  if (url.password) throw new Error('smtp.url must not hold a password: use smtp.passwordFrom');
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  if (password !== undefined && !user) throw new Error('smtp.passwordFrom needs a user name in smtp.url');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    // STARTTLS before EHLO's AUTH, or no mail at all: without it nodemailer logs in over plain text when the server offers no TLS.
    ...(!secure && requiresTls(smtp) ? { requireTLS: true } : {}),
    ...(user ? { auth: { user, ...(password !== undefined ? { pass: password } : {}) } } : {}),
    tls: {
      rejectUnauthorized: !(smtp.allowInsecureCertificates ?? false),
      ...(ca !== undefined ? { ca: [...tls.rootCertificates, ca] } : {}),
    },
    // nodemailer waits minutes by default; a run should learn sooner that the server is unreachable.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

/** What nodemailer's errors carry besides the message. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  rejected?: string[];
  rejectedErrors?: Array<{ recipient?: string; response?: string; responseCode?: number }>;
}

const addresses = (list: ReadonlyArray<string | { address: string }>): string =>
  list.map((a) => (typeof a === 'string' ? a : a.address)).join(', ') || '(nobody)';

/** Each refused recipient with the server's answer: `a@x (550 No such user)`. */
function refusedList(info: {
  rejected: ReadonlyArray<string | { address: string }>;
  rejectedErrors?: SmtpError['rejectedErrors'];
}): string {
  return info.rejected
    .map((r) => {
      const address = typeof r === 'string' ? r : r.address;
      const answer = info.rejectedErrors?.find((e) => e.recipient === address)?.response;
      return answer ? `${address} (${answer})` : address;
    })
    .join(', ');
}

const TRANSPORT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
]);

/** Transient: the server could not be reached, or answered 4xx (try later). A 5xx or a TLS refusal is final. */
function classify(err: SmtpError, smtp: SmtpConfig): { transient: boolean; message: string } {
  if (err.code === 'ETLS' && requiresTls(smtp))
    return {
      transient: false,
      message:
        'the server offers no usable STARTTLS and smtp.requireTLS is on, so nothing was sent and no password left this engine; use smtps://, enable STARTTLS on the server, or set smtp.requireTLS: false for a trusted network',
    };
  if (err.code === 'EENVELOPE' && err.rejected?.length)
    return {
      transient: (err.rejectedErrors ?? []).every((e) => (e.responseCode ?? 500) < 500),
      message: `refused by the server for ${refusedList({ rejected: err.rejected, rejectedErrors: err.rejectedErrors })}`,
    };
  // A certificate the engine rejects is rejected again next time: fix it, or allowInsecureCertificates.
  if (/certificate/i.test(err.message)) return { transient: false, message: err.message };
  const code = err.responseCode;
  if (code !== undefined) return { transient: code >= 400 && code < 500, message: err.message };
  return { transient: err.code !== undefined && TRANSPORT_CODES.has(err.code), message: err.message };
}

/** Built-in driver for objectType email: sends params.subject / params.body through the engine's SMTP server. */
export function createEmailDriver(smtp: SmtpConfig | undefined, deps: DriverDeps = {}): Driver {
  const random = deps.random ?? Math.random;
  let transporter: Transporter<SMTPTransport.SentMessageInfo> | undefined;
  let transporterKey: string | undefined;
  const mailerModule = onFirstUse(async () => (await import('nodemailer')).default);

  // One transporter, rebuilt only when the password or the CA file or variable changes between runs.
  const transporterFor = (
    nodemailer: Awaited<ReturnType<typeof mailerModule>>,
    config: SmtpConfig,
    password: string | undefined,
    ca: string | undefined,
  ) => {
    const key = JSON.stringify([password, ca]);
    if (!transporter || transporterKey !== key) {
      transporter?.close();
      transporter = nodemailer.createTransport(smtpOptions(config, password, ca));
      transporterKey = key;
    }
    return transporter;
  };

  async function run(req: DriverRequest): Promise<DriverResult> {
    if (req.task.spec.action !== 'send') return unknownAction('email', req.task.spec.action, ['send']);
    const fail = (error: string, attempts = 0): DriverResult => ({
      ok: false,
      attempts,
      // nodemailer's errors may quote the server; smtp.url may name its user.
      error: `email: ${redactCredentials(error)}`,
    });
    if (!smtp) return fail('the engine config has no smtp section; add smtp.url and smtp.from');
    const params = readParams(req.task.spec.params);
    if (typeof params === 'string') return fail(`task ${req.task.name}: ${params}`);

    let mailer: Transporter<SMTPTransport.SentMessageInfo>;
    const nodemailer = await mailerModule();
    try {
      const password = smtp.passwordFrom
        ? resolveSecret(smtp.passwordFrom, deps.env, deps.readFile)
        : undefined;
      const ca = smtp.caFrom ? resolveSecret(smtp.caFrom, deps.env, deps.readFile) : undefined;
      mailer = transporterFor(nodemailer, smtp, password, ca);
    } catch (err) {
      if (err instanceof Error) return fail(err.message);
      throw err;
    }
    if (req.signal.aborted) return fail(`not sent: ${abortReason(req.signal)}`);

    const message = {
      from: smtp.from,
      to: params.to,
      ...(params.cc.length ? { cc: params.cc } : {}),
      // A line break in a subject would start a new header: fold it into a space.
      subject: expandTemplate(params.subject, req.vars).replace(/[\r\n]+/g, ' '),
      text: expandTemplate(params.body, req.vars),
    };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error(`stopped: ${abortReason(req.signal)}`));
      req.signal.addEventListener('abort', onAbort, { once: true });
    });
    const attempt = req.attempt ?? 1;
    const retries = smtp.retries ?? DEFAULT_EMAIL_RETRIES;
    try {
      const info = await Promise.race([mailer.sendMail(message), aborted]);
      const details = { messageId: info.messageId, accepted: info.accepted, rejected: info.rejected };
      // Some recipients refused: a failure, not retried (the accepted ones would get the mail twice).
      if (info.rejected.length > 0)
        return {
          ...fail(`refused by the server for ${refusedList(info)}; sent to ${addresses(info.accepted)}`, 1),
          details,
        };
      return { ok: true, attempts: 1, details };
    } catch (err) {
      if (req.signal.aborted) return fail((err as Error).message, 1);
      const failure = classify(err as SmtpError, smtp);
      if (!failure.transient) return fail(failure.message, 1);
      if (attempt > retries) {
        const times = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
        return {
          ...fail(`gave up after ${times}; last: ${failure.message}`, 1),
          exhausted: true,
          lastError: failure.message,
        };
      }
      const policy = retryPolicy(smtp.retrySchedule);
      return {
        ...fail(`attempt ${attempt} failed: ${failure.message}`, 1),
        retryInMs: retryDelay(policy, attempt, random),
      };
    } finally {
      if (onAbort) req.signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    objectType: 'email',
    actions: () => ['send'],
    run,
    async close() {
      transporter?.close();
      transporter = undefined;
    },
  };
}
