import type { FastifyInstance } from 'fastify';
import { previewFirings, type Engine } from '../../engine/index.js';
import type { SourceLookup } from '../types.js';

interface SchedulesQuery {
  count?: string;
}

/**
 * `GET /api/v1/schedules`: every live schedule with its zone, the tasks it fires and a preview of its next
 * firings (`count`, default 5), each in the schedule's zone as `taskops preview` prints it and in UTC.
 */
export function scheduleRoutes(
  app: FastifyInstance,
  engine: Engine,
  defaultZone: string,
  now: () => Date,
  sourceOf: SourceLookup,
): void {
  app.get<{ Querystring: SchedulesQuery }>(
    '/api/v1/schedules',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { count: { type: 'string', pattern: '^([1-9]|[1-4]\\d|50)$' } },
        },
      },
    },
    async (request) => {
      const count = Number(request.query.count ?? 5);
      const state = engine.liveState;
      const after = now();
      const schedules = [...state.schedules].map(([name, spec]) => {
        const source = sourceOf('Schedule', name);
        const base = {
          name,
          timezone: spec.timezone ?? defaultZone,
          enabled: spec.enabled !== false,
          tasks: state.tasksBySchedule.get(name) ?? [],
          spec,
          ...(source ? { source } : {}),
        };
        try {
          const firings = spec.enabled === false ? [] : previewFirings(spec, { after, count, defaultZone });
          return { ...base, nextFirings: firings.map((f) => ({ at: f.utc, local: f.local })), error: null };
        } catch (err) {
          // A schedule that cannot be planned fires nothing; say why instead of failing the listing.
          return { ...base, nextFirings: [], error: (err as Error).message };
        }
      });
      return { schedules: schedules.sort((a, b) => (a.name < b.name ? -1 : 1)) };
    },
  );
}
