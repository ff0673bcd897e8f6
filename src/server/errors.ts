import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { unsupportedMediaType } from './body.js';

/** What an error looks like when it reaches the handler: fastify's own, ajv's, or a plugin's. */
type RequestError = Pick<FastifyError, 'message'> & {
  statusCode?: number;
  validation?: unknown;
  code?: string;
};

/** Every error as JSON `{error, message}`; server faults are logged and never described to the client. */
export function replyWithError(error: RequestError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  const [code, message] = describe(status, error, request);
  if (status === 503) request.log.warn({ url: request.url }, 'request shed under load');
  else if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send({ error: code, message });
}

function describe(status: number, error: RequestError, request: FastifyRequest): [string, string] {
  if (error.validation) return ['bad_request', error.message];
  switch (status) {
    case 413:
      return ['payload_too_large', error.message];
    case 415:
      return [
        'unsupported_media_type',
        unsupportedMediaType(request.method, request.headers['content-type']),
      ];
    case 503:
      return ['unavailable', error.message];
    default:
      return status >= 500
        ? ['internal', 'internal error; see the server log']
        : ['bad_request', error.message];
  }
}
