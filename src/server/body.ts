import type { FastifyInstance } from 'fastify';
import { jsonDepthExcess } from '../manifest/index.js';

/** A client error with the status fastify's error handler reads. */
class BodyError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/**
 * Bodies are JSON and nothing else. fastify's stock text/plain parser goes, so a browser's "simple
 * request" (text/plain, form or multipart, sent cross-site without a preflight) gets 415. The depth
 * is checked on the text before parsing, without recursion, so a hostile nesting never reaches a
 * recursive parser or validator.
 */
export function jsonBodiesOnly(app: FastifyInstance, maxDepth: number): void {
  // fastify's own parser, kept for its __proto__ and constructor.prototype protection.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const at = jsonDepthExcess(body as string, maxDepth);
    if (at >= 0) {
      done(
        new BodyError(
          `the request body nests deeper than ${maxDepth} levels (at character ${at}); flatten the data`,
          400,
        ),
        undefined,
      );
      return;
    }
    parseJson(request, body as string, done);
  });
}

/** The 415 message: what was sent and what is expected. */
export function unsupportedMediaType(method: string, contentType: string | undefined): string {
  const type = (contentType ?? '').split(';')[0]!.trim() || 'a body without a content type';
  return `${method} bodies must be application/json (got ${type})`;
}
