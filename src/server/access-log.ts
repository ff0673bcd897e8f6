import type { FastifyInstance } from 'fastify';

/** Refusals under load are summed up, one line at most this often: each one logged would add load. */
const REFUSAL_SUMMARY_EVERY_MS = 5_000;

/**
 * One line per request, at debug: fastify's own two lines per request at info cost more than the request
 * itself under load. Refused and failed requests (4xx, 5xx) stay at info; 429s, which come in floods, are
 * summed up in one warn line every few seconds.
 */
export function accessLog(app: FastifyInstance): void {
  let refused = 0;
  let lastSummary = 0;
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    const line = {
      method: request.method,
      url: request.url,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (status === 429) {
      refused++;
      const now = Date.now();
      if (now - lastSummary >= REFUSAL_SUMMARY_EVERY_MS) {
        request.log.warn({ refused, url: request.url }, 'requests refused under load (429)');
        refused = 0;
        lastSummary = now;
      }
      return;
    }
    if (status >= 400) request.log.info(line, 'request refused or failed');
    else request.log.debug(line, 'request');
  });
}
