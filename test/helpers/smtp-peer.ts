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
  options: { users?: Record<string, string>; tls?: { key: string; cert: string }; secure?: boolean } = {},
): Promise<SmtpPeer> {
  const messages: ReceivedMail[] = [];
  const config: SMTPServerOptions = {
    secure: options.secure ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.users ? [] : ['AUTH'])],
    authOptional: !options.users,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
