import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Paths a load balancer or orchestrator probes without credentials. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A preHandler that requires `Authorization: Bearer <token>` everywhere but the health probes. */
export function bearerAuth(token: string | null) {
  const expected = token === null ? null : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === null || OPEN_PATHS.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="taskops"')
        .send({ error: 'unauthorized', message: 'a valid Authorization: Bearer <token> header is required' });
    }
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
