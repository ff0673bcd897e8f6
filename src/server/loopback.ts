import { isIPv4 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** True for names and addresses only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || (isIPv4(h) && h.startsWith('127.'));
}

/** The host part of a Host header (`name`, `name:port`, `[v6]:port`), or null when it is malformed. */
export function hostOfHeader(header: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header);
  return m ? m[1]! : null;
}

/** True when `origin` is exactly the origin a page served from `hostHeader` would send. */
function sameOrigin(origin: string, hostHeader: string): boolean {
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    // Build the server's origin with the same scheme, so default ports compare equal.
    return o.origin === new URL(`${o.protocol}//${hostHeader}`).origin;
  } catch {
    return false;
  }
}

const refuse = (reply: FastifyReply, message: string) =>
  reply.code(403).send({ error: 'forbidden', message });

/**
 * For the no-token mode, where being on this machine is the only credential. A page on another site
 * can still reach 127.0.0.1 through the operator's browser: through DNS rebinding (its own name
 * resolving to 127.0.0.1, so the Host is that name) or by posting across origins (the Origin names
 * it). Both are refused.
 */
export function loopbackGuard() {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.host ?? '';
    const host = hostOfHeader(header);
    if (host === null || !isLoopback(host)) {
      await refuse(
        reply,
        `Host ${JSON.stringify(header)} is not a loopback name: without an API token this server only answers ` +
          'requests for localhost, 127.x.x.x or [::1]; set an API token to serve other names',
      );
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, header)) {
      await refuse(
        reply,
        `requests from the origin ${JSON.stringify(origin)} are refused: without an API token only pages of ` +
          'this server itself may call it',
      );
    }
  };
}
