import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Engine } from '../engine/index.js';
import type { SecretPolicy } from '../manifest/index.js';
import type { Store } from '../store/types.js';
import { bearerAuth } from './auth.js';
import type { Metrics } from './metrics.js';
import { eventRoutes } from './routes/events.js';
import { objectRoutes } from './routes/objects.js';
import { taskRoutes } from './routes/tasks.js';
import { statusReport } from './status.js';
import type { SyncController } from './types.js';

export interface ServerOptions {
  engine: Engine;
  store: Store;
  metrics: Metrics;
  sync: SyncController;
  defaultZone: string;
  /** Object types and actions the engine's drivers offer, to validate objects made through the API. */
  driverCatalog?: Record<string, string[]>;
  /** The engine's secrets allowlist, to refuse objects made through the API that reference anything else. */
  secretPolicy?: SecretPolicy;
  /** Required on every route but the health probes when set. */
  apiToken: string | null;
  logger?: FastifyBaseLogger;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** The clock for status reports (tests pass the engine's). */
  now?: () => Date;
  /** False until the engine has started; /readyz answers 503 before. */
  isReady?: () => boolean;
}

/** The HTTP API of `taskops serve` (contract §4). Errors are JSON `{error, message}`. */
export function buildServer(opts: ServerOptions): FastifyInstance {
  // One type for both branches: fastify infers a different instance type per logger option.
  const logging = (opts.logger ? { loggerInstance: opts.logger } : { logger: false }) as { logger: false };
  const app = Fastify({
    ...logging,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // Reject unknown fields and wrong types instead of silently stripping or coercing them.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, allowUnionTypes: true },
    },
  });
  app.addHook('preHandler', bearerAuth(opts.apiToken));

  app.setErrorHandler(
    (
      error: { statusCode?: number; validation?: unknown; message: string; code?: string },
      request,
      reply,
    ) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      const code = error.validation
        ? 'bad_request'
        : status === 413
          ? 'payload_too_large'
          : status >= 500
            ? 'internal'
            : 'bad_request';
      return reply
        .code(status)
        .send({ error: code, message: status >= 500 ? 'internal error; see the server log' : error.message });
    },
  );
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = opts.isReady?.() ?? true;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'starting' });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.render()),
  );
  app.get('/api/v1/status', async () =>
    statusReport(opts.store, (opts.now ?? (() => new Date()))(), opts.defaultZone, opts.sync.status()),
  );
  app.post('/api/v1/sync', async () => opts.sync.syncNow());
  eventRoutes(app, opts.engine, opts.metrics);
  taskRoutes(app, opts.engine, opts.store);
  objectRoutes(app, opts.engine, opts.store, opts.defaultZone, opts.driverCatalog, opts.secretPolicy);
  return app;
}
