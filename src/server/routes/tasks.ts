import type { FastifyInstance } from 'fastify';
import { EngineError, type Engine } from '../../engine/index.js';
import { builtInDriver } from '../../manifest/drivers.js';
import {
  RUN_STATUSES,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../../store/types.js';
import type { RunFeed } from '../run-feed.js';
import type { SourceLookup } from '../types.js';
import { streamRuns } from './runs-stream.js';

interface RunsQuery {
  task?: string;
  status?: string;
  since?: string;
  limit?: string;
  offset?: string;
  follow?: string;
}

export function taskRoutes(
  app: FastifyInstance,
  engine: Engine,
  store: Store,
  feed: RunFeed,
  sourceOf: SourceLookup,
): void {
  app.get<{ Querystring: { limit?: string } }>(
    '/api/v1/tasks',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          // The first `limit` tasks by name, and `total`: the dashboard's overview shows a few of many.
          properties: { limit: { type: 'string', pattern: '^[1-9]\\d{0,5}$' } },
        },
      },
    },
    async (request) => {
      const state = engine.liveState;
      const limit = request.query.limit === undefined ? Infinity : Number(request.query.limit);
      const names = [...state.tasks.keys(), ...state.retired].sort().slice(0, limit);
      const shown = new Set(names);
      const lastRuns = new Map<string, unknown>();
      for (const name of names) {
        const last = (await store.listRuns({ task: name, limit: 1 }))[0];
        lastRuns.set(name, last ? runSummary(last) : null);
      }
      const tasks = [...state.tasks]
        .filter(([name]) => shown.has(name))
        .map(([name, spec]) => {
          const firings = (spec.schedules ?? [])
            .flatMap((s) => engine.nextFirings(s, 3))
            .sort((a, b) => a.getTime() - b.getTime())
            .slice(0, 3)
            .map((d) => d.toISOString());
          const triggers = state.triggers.filter((t) => t.spec.tasks.includes(name)).map((t) => t.name);
          // What the target names, from the driver registry: the dashboard never tests a driver name.
          const targetKind = builtInDriver(spec.objectType)?.target ?? 'objects';
          const source = sourceOf('Task', name);
          return {
            name,
            retired: false,
            spec,
            targetKind,
            triggers,
            nextFirings: firings,
            lastRun: lastRuns.get(name),
            ...(source ? { source } : {}),
          };
        });
      const retired = [...state.retired]
        .filter((name) => shown.has(name))
        .map((name) => ({ name, retired: true, lastRun: lastRuns.get(name) }));
      return {
        tasks: [...tasks, ...retired].sort((a, b) => (a.name < b.name ? -1 : 1)),
        total: state.tasks.size + state.retired.size,
      };
    },
  );

  app.post<{ Params: { name: string }; Querystring: { keep?: string } }>(
    '/api/v1/tasks/:name/run',
    // keep=1: a test run of a deleteAfterRun task that leaves it in place (taskops run --keep --server).
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { keep: { enum: ['1', 'true'] } },
        },
      },
    },
    async (request, reply) => {
      try {
        const runs = await engine.runTask(request.params.name, { keep: request.query.keep !== undefined });
        return reply.code(202).send({ runs });
      } catch (err) {
        if (err instanceof EngineError)
          return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id', async (request, reply) => {
    const run = await store.getRun(request.params.id);
    if (!run) return reply.code(404).send({ error: 'not_found', message: `no run ${request.params.id}` });
    return { run };
  });

  app.get<{ Querystring: RunsQuery }>(
    '/api/v1/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            task: { type: 'string', maxLength: 63 },
            status: {
              type: 'string',
              pattern: `^(${RUN_STATUSES.join('|')})(,(${RUN_STATUSES.join('|')}))*$`,
            },
            since: { type: 'string', format: 'date-time' },
            // Query strings are text: digits here, numbers in the handler (the body parser never coerces).
            limit: { type: 'string', pattern: '^([1-9]\\d{0,1}|[1-4]\\d{2}|500)$' },
            offset: { type: 'string', pattern: '^\\d{1,9}$' },
            // Server-sent events: the listing, then every new or changed run (streamRuns).
            follow: { enum: ['1', 'true'] },
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const filter: RunFilter = { limit: Number(q.limit ?? 50), offset: Number(q.offset ?? 0) };
      if (q.task) filter.task = q.task;
      if (q.status) filter.status = q.status.split(',') as RunStatus[];
      if (q.since) filter.since = new Date(q.since).toISOString();
      if (q.follow) return streamRuns(request, reply, store, feed, filter);
      return { runs: await store.listRuns(filter), limit: filter.limit, offset: filter.offset };
    },
  );
}

/** A run without its details (output, attempts), so a listing of every task stays small. */
function runSummary(run: RunRecord) {
  const { runId, status, trigger, queuedAt, startedAt, finishedAt, attempts, error } = run;
  return { runId, status, trigger, queuedAt, startedAt, finishedAt, attempts, error };
}
