import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  recipients: string[];
  /** The whole message as received (headers and body). */
  raw: string;
  headers: Record<string, string>;
  text: string;
  /** The user name the client logged in with, if any. */
  user?: string;
}

export interface SmtpPeer {
  port: number;
  messages: ReceivedMail[];
  /** Connection errors the server saw (a client that refused its certificate, ...). */
  errors: Error[];
  /** Every AUTH attempt's user name, whether it succeeded or not. */
  logins: string[];
  close(): Promise<void>;
}

/** Unfolds continuation lines and splits the header block off the body. */
function parseMessage(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const text = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, text };
}

/** A real SMTP server on 127.0.0.1 that accepts and records every message. */
export async function startSmtpPeer(
  options: {
    users?: Record<string, string>;
    tls?: { key: string; cert: string };
    secure?: boolean;
    /** RCPT TO answers for these addresses: `{ 'b@x': [550, 'No such user'] }`. */
    refuse?: Record<string, [number, string]>;
    /** Answers to the next MAIL FROM commands, in order (a 451 "try later"); then accepted. */
    mailFromAnswers?: Array<[number, string]>;
  } = {},
): Promise<SmtpPeer> {
  const messages: ReceivedMail[] = [];
  const logins: string[] = [];
  const refusal = ([code, text]: [number, string]) => Object.assign(new Error(text), { responseCode: code });
  const config: SMTPServerOptions = {
    secure: options.secure ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.users ? [] : ['AUTH'])],
    authOptional: !options.users,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onMailFrom(_address, _session, callback) {
      const answer = options.mailFromAnswers?.shift();
      callback(answer ? refusal(answer) : undefined);
    },
    onRcptTo(address, _session, callback) {
      const answer = options.refuse?.[address.address];
      callback(answer ? refusal(answer) : undefined);
    },
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? '');
      const expected = options.users?.[auth.username ?? ''];
      if (expected !== undefined && expected === auth.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        messages.push({
          from: from ? from.address : '',
          recipients: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMessage(raw),
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        });
        callback();
      });
    },
  };
  const errors: Error[] = [];
  const server = new SMTPServer(config);
  server.on('error', (err) => errors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    errors,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
