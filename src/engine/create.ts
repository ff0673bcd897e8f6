import path from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import type { Store } from '../store/types.js';
import { createDriverRegistry, type DriverDeps } from './drivers/index.js';
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
}

/** An engine wired from the engine config: drivers built, command drivers run from the config file's folder. */
export function createEngine(opts: CreateEngineOptions): Engine {
  const { config, baseDir, catchUpWindowMs } = opts.config;
  const drivers = Object.fromEntries(
    Object.entries(config.drivers).map(([type, d]) => [
      type,
      d && { ...d, workingDirectory: path.resolve(baseDir, d.workingDirectory ?? '.') },
    ]),
  );
  return new Engine({
    store: opts.store,
    dataDir: opts.dataDir,
    drivers: createDriverRegistry({ ...config, drivers }, opts.driverDeps),
    defaultZone: config.defaultTimezone,
    catchUpWindowMs,
    maxConcurrentRuns: config.maxConcurrentRuns,
    retentionDays: config.retention?.days ?? 30,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onRunFinished ? { onRunFinished: opts.onRunFinished } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
    ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
  });
}
