import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Paths a load balancer or orchestrator probes without credentials. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/**
 * An onRequest hook (the earliest, before the body is read) that requires `Authorization: Bearer
 * <token>` everywhere but the health probes. A refused request's body is never read.
 */
export function bearerAuth(token: string | null) {
  const expected = token === null ? null : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === null || OPEN_PATHS.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      // Closing drops the unread body; keeping the connection would mean reading it to the end.
      if (hasBody(request)) reply.header('connection', 'close');
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="taskops"')
        .send({ error: 'unauthorized', message: 'a valid Authorization: Bearer <token> header is required' });
    }
  };
}
