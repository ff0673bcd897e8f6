import underPressure from '@fastify/under-pressure';
import type { HelmetOptions } from 'helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Engine } from '../engine/index.js';
import type { SecretPolicy } from '../manifest/index.js';
import type { Store } from '../store/types.js';
import { accessLog } from './access-log.js';
import { bearerAuth } from './auth.js';
import { jsonBodiesOnly } from './body.js';
import { replyWithError } from './errors.js';
import { capConnections, resolveLimits, timeoutOptions, type ServerLimits } from './limits.js';
import { loopbackGuard } from './loopback.js';
import type { Metrics } from './metrics.js';
import { securityHeaders } from './security-headers.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { objectRoutes } from './routes/objects.js';
import { RunFeed } from './run-feed.js';
import { scheduleRoutes } from './routes/schedules.js';
import { taskRoutes } from './routes/tasks.js';
import type { ReplicaStatus } from './replicas.js';
import { statusReport } from './status.js';
import type { SourceLookup, SyncController } from './types.js';

/**
 * The dashboard's pages load only their own scripts and styles and talk only to this server. No upgrade to
 * https and no HSTS: the API is plain HTTP on loopback or behind a TLS proxy.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
      upgradeInsecureRequests: null,
    },
  },
  strictTransportSecurity: false,
};

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
  /**
   * Required on every route but the health probes when set. Without one, only loopback Host names and
   * same-origin pages are served (the caller must also listen on loopback only).
   */
  apiToken: string | null;
  logger?: FastifyBaseLogger;
  /** Largest request body accepted, in bytes (the same as `limits.bodyBytes`). */
  bodyLimit?: number;
  /** Timeouts, the connection cap, nesting and load shedding; defaults in DEFAULT_LIMITS. */
  limits?: Partial<ServerLimits>;
  /** The clock for status reports (tests pass the engine's). */
  now?: () => Date;
  /** With replicas on a shared store: this replica, the leader and the live peers, for the status. */
  replica?: () => Promise<ReplicaStatus>;
  /** False until the engine has started; /readyz answers 503 before. */
  isReady?: () => boolean;
  /** The built dashboard; default dist/dashboard. */
  dashboardDir?: string;
  /** How often followed run streams read the store; default 1000 ms. */
  runFeedIntervalMs?: number;
}

/** The HTTP API of `taskops serve` (contract §4). Errors are JSON `{error, message}`. */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const limits = resolveLimits({
    ...(opts.bodyLimit !== undefined ? { bodyBytes: opts.bodyLimit } : {}),
    ...opts.limits,
  });
  // One type for both branches: fastify infers a different instance type per logger option.
  const logging = (opts.logger ? { loggerInstance: opts.logger } : { logger: false }) as { logger: false };
  const app = Fastify({
    ...logging,
    ...timeoutOptions(limits),
    // Replaced by accessLog: one line per request, at debug unless it was refused or failed.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    // Reject unknown fields and wrong types instead of silently stripping or coercing them.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, allowUnionTypes: true },
    },
  });
  capConnections(app.server, limits);
  accessLog(app);
  opts.metrics.watchPendingWork(() => opts.engine);
  jsonBodiesOnly(app, limits.maxDepth);

  // onRequest hooks run in this order: security headers (on refusals too), load shedding, then the
  // credential checks, all before a body is read.
  securityHeaders(app, HELMET_OPTIONS);
  void app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes,
    sampleInterval: limits.pressureSampleIntervalMs,
    retryAfter: limits.retryAfterSeconds,
    message: `the server is overloaded; retry in ${limits.retryAfterSeconds} s`,
  });
  if (opts.apiToken === null) app.addHook('onRequest', loopbackGuard());
  app.addHook('onRequest', bearerAuth(opts.apiToken));
  // serve listens before its engine has recovered and scheduled: the API waits for it, the probes do not.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/api/') && !(opts.isReady?.() ?? true)) {
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: 'starting', message: 'the engine is starting; retry in a moment' });
    }
  });

  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  // Liveness stays up under load: an orchestrator would otherwise restart a merely busy engine.
  app.get('/healthz', { config: { pressureHandler: () => undefined } }, async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!(opts.isReady?.() ?? true)) return reply.code(503).send({ status: 'starting' });
    // Not ready while the store refuses writes: runs would happen without a record of them.
    const recording = opts.engine.recordingHealth();
    if (!recording.ok) {
      return reply.code(503).send({
        status: 'degraded',
        reason: `the store refuses writes: ${recording.lastError ?? 'unknown error'}`,
        unrecordedRuns: recording.unrecordedRuns,
      });
    }
    return reply.code(200).send({ status: 'ready' });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.render()),
  );
  app.get('/api/v1/status', async () => {
    const report = await statusReport(
      opts.store,
      (opts.now ?? (() => new Date()))(),
      opts.defaultZone,
      opts.sync.describe(),
    );
    return opts.replica ? { ...report, replica: await opts.replica() } : report;
  });
  app.post('/api/v1/sync', async () => opts.sync.syncNow());
  eventRoutes(app, opts.engine, opts.metrics);
  const feed = new RunFeed({
    store: opts.store,
    ...(opts.runFeedIntervalMs !== undefined ? { intervalMs: opts.runFeedIntervalMs } : {}),
  });
  // Open streams are never idle: end them, or closing the server would wait for every follower to leave.
  app.addHook('preClose', async () => feed.endAll());
  // Every listing says where its objects are declared, when the GitOps loop knows (serve's loop does).
  const sourceOf: SourceLookup = (kind, name) => opts.sync.sourceOf?.(kind, name);
  taskRoutes(app, opts.engine, opts.store, feed, sourceOf);
  deliveryRoutes(app, opts.engine, opts.store);
  scheduleRoutes(app, opts.engine, opts.defaultZone, opts.now ?? (() => new Date()), sourceOf);
  dashboardRoutes(app, {
    apiToken: opts.apiToken,
    ...(opts.dashboardDir !== undefined ? { dir: opts.dashboardDir } : {}),
  });
  objectRoutes(
    app,
    opts.engine,
    opts.store,
    sourceOf,
    opts.defaultZone,
    opts.driverCatalog,
    opts.secretPolicy,
  );
  return app;
}
