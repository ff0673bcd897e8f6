/**
 * A real engine on a real SQLite store in a temp dir, loaded the way `taskops reconcile` + `serve` do it
 * (the one reconcile step, reconcileOnce, then start), with the driver wrapped to time the moment each run starts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { driverCatalog, loadEngineConfig } from '../../src/config/index.js';
import { createDriverRegistry, Engine, type DriverRegistry } from '../../src/engine/index.js';
import type { Driver } from '../../src/engine/drivers/index.js';
import { formatProblem } from '../../src/manifest/index.js';
import { reconcileOnce } from '../../src/reconcile/index.js';
import { FolderSource } from '../../src/source/index.js';
import { openStore, type RunRecord, type Store } from '../../src/store/index.js';
import { tempDir } from './tempdir.js';

/** A finished run as the bench sees it (made per run and dropped at once: the bench keeps no record of it). */
export interface FinishedRun {
  runId: string;
  status: RunRecord['status'];
  /** The event that caused the run, if any. */
  event: string | null;
}

/** Told of each run as it finishes, with the performance.now() of its driver call (NaN: never called). */
export type RunObserver = (run: FinishedRun, startedAt: number) => void;

export interface BenchEngine {
  engine: Engine;
  store: Store;
  dataDir: string;
  /**
   * Sets who is told of each finished run (null: nobody). The bench keeps nothing per run itself: runs it
   * held on to (their records, later their ids in maps) survived the engine's young-generation collections
   * and were copied by each, a GC cost that serve never pays and that made up most of the steady p99.
   */
  observeRuns(observer: RunObserver | null): void;
  /** Finished runs by status. */
  statuses: Record<string, number>;
  /** Store method → calls made by the engine: the writes per run are where its time goes. */
  storeCalls: Record<string, number>;
  close(): Promise<void>;
}

/** Counts the engine's calls per Store method; the calls themselves go through unchanged. */
function countingStore(store: Store, calls: Record<string, number>): Store {
  // One wrapper per method, not one per call: the bench's own garbage stays out of the engine's figures.
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      let wrapper = wrappers.get(key);
      if (!wrapper) {
        wrapper = (...args: unknown[]) => {
          calls[key] = (calls[key] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
        wrappers.set(key, wrapper);
      }
      return wrapper;
    },
  });
}

/** Times each driver call on entry: the event → run-start latency ends here, not at the store write. */
function timedRegistry(registry: DriverRegistry, runStarted: Map<string, number>): DriverRegistry {
  const wrapped = new Map<string, Driver>();
  return {
    ...registry,
    get(objectType) {
      const driver = registry.get(objectType);
      if (!driver) return driver;
      if (!wrapped.has(objectType)) {
        wrapped.set(objectType, {
          ...driver,
          run(req) {
            runStarted.set(req.runId, performance.now());
            return driver.run(req);
          },
        });
      }
      return wrapped.get(objectType);
    },
  };
}

export async function benchEngine(
  manifests: Record<string, string>,
  config: Record<string, unknown>,
): Promise<BenchEngine> {
  const dir = tempDir('engine');
  const dataDir = path.join(dir, 'data');
  const manifestsDir = path.join(dir, 'manifests');
  mkdirSync(manifestsDir, { recursive: true });
  for (const [name, text] of Object.entries(manifests)) writeFileSync(path.join(manifestsDir, name), text);
  const configFile = path.join(dir, 'taskops.config.yaml');
  writeFileSync(configFile, stringify(config));
  const resolved = loadEngineConfig(configFile, {});

  // As serve opens it.
  const store = await openStore(dataDir, { backgroundCheckpoints: {} });
  const outcome = await reconcileOnce(
    new FolderSource(manifestsDir),
    store,
    { now: () => new Date() },
    {
      dataDir,
      mode: 'apply',
      record: true,
      safety: { allowDeleteAll: true },
      load: { driverCatalog: driverCatalog(resolved.config) },
    },
  );
  if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n') || outcome.message!);

  // Only runs in flight: an entry goes when its run finishes.
  const runStarted = new Map<string, number>();
  const statuses: Record<string, number> = {};
  let observer: RunObserver | null = null;
  const storeCalls: Record<string, number> = {};
  const engine = new Engine({
    store: countingStore(store, storeCalls),
    dataDir,
    drivers: timedRegistry(createDriverRegistry(resolved.config), runStarted),
    defaultZone: resolved.config.defaultTimezone,
    catchUpWindowMs: resolved.catchUpWindowMs,
    maxConcurrentRuns: resolved.config.maxConcurrentRuns,
    ...(resolved.config.maxPendingWork !== undefined
      ? { maxPendingWork: resolved.config.maxPendingWork }
      : {}),
    onRunFinished: (run) => {
      statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      const startedAt = runStarted.get(run.runId) ?? NaN;
      runStarted.delete(run.runId);
      observer?.({ runId: run.runId, status: run.status, event: run.trigger.event }, startedAt);
    },
  });
  await engine.start();
  return {
    engine,
    store,
    dataDir,
    observeRuns: (next) => void (observer = next),
    statuses,
    storeCalls,
    close: async () => {
      await engine.stop(1000);
      await store.close();
    },
  };
}
