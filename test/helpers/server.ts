import type { FastifyInstance } from 'fastify';
import { buildServer, Metrics, type ServerOptions, type SyncController } from '../../src/server/index.js';
import { GitOpsLoop, type GitOpsOptions } from '../../src/server/gitops.js';
import type { Source } from '../../src/source/index.js';
import type { EngineFixture } from './engine.js';

/** A GitOps loop that is always in sync: "sync now" finds revision rev-1 applied already. */
export const unchangedSync: SyncController = {
  describe: () => ({ source: 'test', autoApply: true }),
  syncNow: async () => ({
    outcome: 'unchanged',
    revision: 'rev-1',
    summary: { create: 0, update: 0, delete: 0 },
    error: null,
  }),
};

/**
 * The HTTP API over an engine fixture, as serve builds it: the fixture's engine and store, fresh metrics,
 * UTC as the default zone and the fixture's clock for status reports, `unchangedSync` unless `opts` gives
 * a loop. The token is always the test's own choice.
 */
export function fixtureServer(
  fixture: Pick<EngineFixture, 'engine' | 'store' | 'clock'>,
  opts: Pick<ServerOptions, 'apiToken'> & Partial<ServerOptions>,
): FastifyInstance {
  return buildServer({
    engine: fixture.engine,
    store: fixture.store,
    metrics: new Metrics(),
    sync: unchangedSync,
    defaultZone: 'UTC',
    now: () => fixture.clock.now(),
    ...opts,
  });
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * serve's GitOps loop following `source` into an engine fixture: auto-apply, no deletion limits, nothing
 * logged, on the fixture's clock. `load` says how manifests are read (display root, catalog, allowlist).
 */
export function fixtureLoop(fixture: EngineFixture, source: Source, load: GitOpsOptions['load']): GitOpsLoop {
  return new GitOpsLoop({
    source,
    store: fixture.store,
    engine: fixture.engine,
    dataDir: fixture.dataDir,
    metrics: new Metrics(),
    logger: silent,
    autoApply: true,
    safety: {},
    load,
    clock: fixture.clock,
  });
}
