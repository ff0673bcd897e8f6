import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { expandTemplate } from '../../manifest/template.js';
import type { EngineConfig } from '../../manifest/types.js';
import { redactCredentials } from '../../text/redact.js';
import { resolveSecret } from '../secrets.js';
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

/** smtp(s)://[user@]host[:port] → nodemailer options; the password comes only from passwordFrom. */
export function smtpOptions(smtp: SmtpConfig, password: string | undefined): SMTPTransport.Options {
  const url = new URL(smtp.url);
  if (url.password) throw new Error('smtp.url must not hold a password: use smtp.passwordFrom');
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  if (password !== undefined && !user) throw new Error('smtp.passwordFrom needs a user name in smtp.url');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, ...(password !== undefined ? { pass: password } : {}) } } : {}),
    tls: { rejectUnauthorized: !(smtp.allowInsecureCertificates ?? false) },
    // nodemailer waits minutes by default; a run should learn sooner that the server is unreachable.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

/** Built-in driver for objectType email: sends params.subject / params.body through the engine's SMTP server. */
export function createEmailDriver(smtp: SmtpConfig | undefined, deps: DriverDeps = {}): Driver {
  let transporter: Transporter<SMTPTransport.SentMessageInfo> | undefined;
  let transporterPassword: string | undefined;

  // One transporter, rebuilt only when the password file or variable changes between runs.
  const transporterFor = (config: SmtpConfig, password: string | undefined) => {
    if (!transporter || transporterPassword !== password) {
      transporter?.close();
      transporter = nodemailer.createTransport(smtpOptions(config, password));
      transporterPassword = password;
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
    try {
      const password = smtp.passwordFrom
        ? resolveSecret(smtp.passwordFrom, deps.env, deps.readFile)
        : undefined;
      mailer = transporterFor(smtp, password);
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
    try {
      const info = await Promise.race([mailer.sendMail(message), aborted]);
      return {
        ok: true,
        attempts: 1,
        details: { messageId: info.messageId, accepted: info.accepted, rejected: info.rejected },
      };
    } catch (err) {
      return fail((err as Error).message, 1);
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
