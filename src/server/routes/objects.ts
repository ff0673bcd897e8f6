import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.js';
import { KINDS, validateObject, type Kind, type Manifest, type SecretPolicy } from '../../manifest/index.js';
import { contentHash } from '../../store/hash.js';
import type { LiveObject, Store } from '../../store/types.js';
import type { SourceLookup } from '../types.js';

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

interface ObjectBody {
  metadata?: { description?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/**
 * Objects made or changed by hand. A new one is `managedBy: api` (never pruned); a change to a taskops
 * object is drift, shown by `status` and put back by the next reconcile. Validated exactly like a manifest.
 */
export function objectRoutes(
  app: FastifyInstance,
  engine: Engine,
  store: Store,
  sourceOf: SourceLookup,
  defaultZone: string,
  driverCatalog?: Record<string, string[]>,
  secretPolicy?: SecretPolicy,
): void {
  const catalogOpt = {
    ...(driverCatalog ? { driverCatalog } : {}),
    ...(secretPolicy ? { secretPolicy } : {}),
  };
  app.get<{ Querystring: { kind?: string } }>(
    '/api/v1/objects',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { enum: [...KINDS] } },
        },
      },
    },
    async (request) => {
      const objects = await store.listObjects(request.query.kind as Kind | undefined);
      return { objects: objects.map((o) => view(o, sourceOf)) };
    },
  );

  app.put<{ Params: { kind: string; name: string }; Body: ObjectBody }>(
    '/api/v1/objects/:kind/:name',
    {
      schema: {
        params: {
          type: 'object',
          properties: { kind: { enum: [...KINDS] }, name: { type: 'string', pattern: NAME } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['spec'],
          properties: {
            metadata: {
              type: 'object',
              additionalProperties: false,
              properties: {
                description: { type: 'string', maxLength: 1024 },
                labels: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
            spec: { type: 'object' },
          },
        },
      },
    },
    async (request, reply) => {
      const kind = request.params.kind as Kind;
      const name = request.params.name;
      const label = `${kind}/${name}`;
      const metadata = { name, ...(request.body.metadata ?? {}) };
      const others: Manifest[] = (await store.listObjects())
        .filter((o) => !(o.kind === kind && o.name === name))
        .map((o) => ({ apiVersion: 'taskops/v1', kind: o.kind, metadata: o.metadata, spec: o.spec }));
      const checked = validateObject(kind, metadata, request.body.spec, others, {
        defaultZone,
        ...catalogOpt,
      });
      if (!checked.manifest) {
        return reply.code(400).send({
          error: 'invalid',
          message: `${label} is invalid; nothing was changed`,
          problems: checked.problems,
        });
      }
      const spec = checked.manifest.spec;
      const existed = await store.getObject(kind, name);
      await store.putObjectByHand(
        { kind, name, metadata, spec: spec as never, hash: contentHash(metadata, spec) },
        new Date(),
      );
      await engine.reload();
      return reply
        .code(existed ? 200 : 201)
        .send({ object: view((await store.getObject(kind, name))!, sourceOf) });
    },
  );
}

function view(o: LiveObject, sourceOf: SourceLookup) {
  // Only what came from the source has a place there; an object made through the API has none.
  const source = o.managedBy === 'taskops' ? sourceOf(o.kind, o.name) : undefined;
  return {
    kind: o.kind,
    name: o.name,
    managedBy: o.managedBy,
    revision: o.revision,
    updatedAt: o.updatedAt,
    retiredAt: o.retiredAt,
    drift: o.managedBy === 'taskops' && o.appliedHash != null && o.appliedHash !== o.hash,
    metadata: o.metadata,
    spec: o.spec,
    ...(source ? { source } : {}),
  };
}
