import path from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import type { Store } from '../store/types.js';
import { parseDuration } from '../config/duration.js';
import { createDriverRegistry, type DriverDeps, type VergeosDriver } from './drivers/index.js';
import { VergeosEventSource } from './drivers/vergeos-events.js';
import { systemClock } from './schedule/index.js';
import { silentLogger } from './types.js';
import { Engine, type EngineOptions } from './engine.js';

export interface CreateEngineOptions {
  store: Store;
  dataDir: string;
  config: ResolvedConfig;
  driverDeps?: DriverDeps;
  clock?: EngineOptions['clock'];
  random?: EngineOptions['random'];
  logger?: EngineOptions['logger'];
  onRunFinished?: EngineOptions['onRunFinished'];
  instanceId?: EngineOptions['instanceId'];
  leaseMs?: EngineOptions['leaseMs'];
  taskLogReplica?: EngineOptions['taskLogReplica'];
}

/** An engine wired from the engine config: drivers built; command folders and CA files relative to the config file. */
export function createEngine(opts: CreateEngineOptions): Engine {
  const { config, baseDir, catchUpWindowMs } = opts.config;
  const drivers = Object.fromEntries(
    Object.entries(config.drivers).map(([type, d]) => [
      type,
      d && {
        ...d,
        workingDirectory: path.resolve(baseDir, d.workingDirectory ?? '.'),
        ...(d.caFile ? { caFile: path.resolve(baseDir, d.caFile) } : {}),
      },
    ]),
  );
  const registry = createDriverRegistry({ ...config, drivers }, opts.driverDeps);
  const engine = new Engine({
    store: opts.store,
    dataDir: opts.dataDir,
    drivers: registry,
    defaultZone: config.defaultTimezone,
    catchUpWindowMs,
    maxConcurrentRuns: config.maxConcurrentRuns,
    ...(config.maxPendingWork !== undefined ? { maxPendingWork: config.maxPendingWork } : {}),
    retentionDays: config.retention?.days ?? 30,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onRunFinished ? { onRunFinished: opts.onRunFinished } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
    ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
    ...(opts.taskLogReplica ? { taskLogReplica: opts.taskLogReplica } : {}),
  });
  for (const [name, source] of Object.entries(config.eventSources ?? {})) {
    if (!source) continue;
    const driver = registry.get(source.driver) as Partial<VergeosDriver> | undefined;
    // Config validation guarantees a vergeos driver here; its client carries the shared request budget.
    if (!driver?.client) continue;
    engine.addEventSource(
      new VergeosEventSource({
        name,
        client: driver.client,
        config: source,
        pollIntervalMs: parseDuration(source.pollInterval ?? '30s')!,
        store: opts.store,
        clock: opts.clock ?? systemClock,
        submit: (event) => engine.submitEvent(event),
        log: opts.logger ?? silentLogger,
      }),
    );
  }
  return engine;
}
