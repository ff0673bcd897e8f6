import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forgeryRisk, sessionToken } from './session.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without a credential: the dashboard's login page and what it loads, the login itself. */
    public?: boolean;
  }
}

/** Paths a load balancer or orchestrator probes without credentials. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/** How a request proved it holds the token: a bearer header (API clients) or the session cookie (browsers). */
export type Credential = 'bearer' | 'cookie' | 'none-required';

/** The request's credential when it is valid, else null. Reads headers only, never the body. */
export function credentialCheck(token: string | null) {
  const expected = token === null ? null : digest(token);
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const valid = (presented: string) => timingSafeEqual(digest(presented), expected!);
  return (request: Pick<FastifyRequest, 'headers'>): Credential | null => {
    if (expected === null) return 'none-required';
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (match) return valid(match[1]!.trim()) ? 'bearer' : null;
    const cookie = sessionToken(request.headers.cookie);
    return cookie !== null && valid(cookie) ? 'cookie' : null;
  };
}

/**
 * An onRequest hook (the earliest, before the body is read) that requires the token everywhere but the
 * health probes and public routes: as `Authorization: Bearer <token>`, or as the dashboard's session
 * cookie, whose writes must also come from the dashboard's own origin (forgeryRisk). A refused
 * request's body is never read.
 */
export function bearerAuth(token: string | null) {
  const check = credentialCheck(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (token === null || OPEN_PATHS.has(request.routeOptions.url ?? '')) return;
    if (request.routeOptions.config?.public === true) return;
    const credential = check(request);
    const risk = credential === 'cookie' ? forgeryRisk(request) : null;
    if (credential !== null && risk === null) return;
    // Closing drops the unread body; keeping the connection would mean reading it to the end.
    if (hasBody(request)) reply.header('connection', 'close');
    if (credential === null) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="taskops"')
        .send({ error: 'unauthorized', message: 'a valid Authorization: Bearer <token> header is required' });
      return;
    }
    await reply.code(403).send({ error: 'forbidden', message: risk });
  };
}
