import type { FastifyInstance } from 'fastify';
import { EngineOverloadedError, type Engine } from '../../engine/index.js';
import type { EventFieldValue } from '../../store/types.js';
import type { Metrics } from '../metrics.js';

const ID = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } as const;

/** The event body: bounded in every dimension, unknown fields refused (in-process `taskops emit` checks the same). */
export const EVENT_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'name'],
  properties: {
    type: ID,
    name: ID,
    // The member rule of Tags: an object name may reach argv (${NAME}) and the operator's terminal.
    object: {
      type: ['string', 'null'],
      minLength: 1,
      maxLength: 253,
      pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$',
    },
    fields: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: '^[A-Za-z0-9_]{1,64}$' },
      additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 4096 },
    },
  },
} as const;

interface EventBody {
  type: string;
  name: string;
  object?: string | null;
  fields?: Record<string, EventFieldValue>;
}

export function eventRoutes(app: FastifyInstance, engine: Engine, metrics: Metrics): void {
  app.post<{ Body: EventBody }>(
    '/api/v1/events',
    { schema: { body: EVENT_BODY } },
    async (request, reply) => {
      // 202 only after the event is stored: a crash after this answer still processes it.
      let event;
      try {
        event = await engine.submitEvent(request.body);
      } catch (err) {
        if (!(err instanceof EngineOverloadedError)) throw err;
        // Refused before anything was stored: the client keeps the event and sends it again later.
        metrics.eventRefused();
        return reply
          .code(429)
          .header('retry-after', String(err.retryAfterSeconds))
          .send({ error: 'overloaded', message: err.message });
      }
      metrics.eventReceived();
      return reply.code(202).send({ id: event.id });
    },
  );
}
