import type { FastifyInstance } from 'fastify';
import { EngineError, type Engine } from '../../engine/index.js';
import type { Store } from '../../store/types.js';
import { listDeliveries } from '../deliveries.js';

interface DeliveriesQuery {
  failed?: string;
  webhook?: string;
  limit?: string;
  offset?: string;
}

/** Webhook deliveries (dead letters with `failed`), replay, and re-enabling a webhook its receiver disabled. */
export function deliveryRoutes(app: FastifyInstance, engine: Engine, store: Store): void {
  app.get<{ Querystring: DeliveriesQuery }>(
    '/api/v1/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            failed: { enum: ['1', 'true'] },
            webhook: { type: 'string', maxLength: 63 },
            limit: { type: 'string', pattern: '^([1-9]\\d{0,1}|[1-4]\\d{2}|500)$' },
            offset: { type: 'string', pattern: '^\\d{1,9}$' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = Number(q.limit ?? 50);
      const offset = Number(q.offset ?? 0);
      const deliveries = await listDeliveries(store, {
        failed: q.failed !== undefined,
        ...(q.webhook ? { webhook: q.webhook } : {}),
        limit,
        offset,
      });
      return { deliveries, limit, offset };
    },
  );

  app.post<{ Params: { id: string } }>('/api/v1/runs/:id/replay', async (request, reply) => {
    try {
      const run = await engine.replay(request.params.id);
      return reply.code(202).send({ run, replayOf: request.params.id });
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      const missing = /^no run |no longer exists/.test(err.message);
      return reply
        .code(missing ? 404 : 409)
        .send({ error: missing ? 'not_found' : 'conflict', message: err.message });
    }
  });

  app.post<{ Params: { name: string } }>('/api/v1/webhooks/:name/enable', async (request, reply) => {
    try {
      const wasDisabled = await engine.enableWebhook(request.params.name);
      return { webhook: request.params.name, enabled: true, wasDisabled };
    } catch (err) {
      if (err instanceof EngineError)
        return reply.code(404).send({ error: 'not_found', message: err.message });
      throw err;
    }
  });
}
