import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadEngineConfig, driverCatalog, type ResolvedConfig } from '../../src/config/index.js';
import { createEngine, ManualClock, type Engine, type EngineLogger } from '../../src/engine/index.js';
import type { DriverDeps } from '../../src/engine/drivers/index.js';
import { formatProblem } from '../../src/manifest/index.js';
import { reconcileOnce } from '../../src/reconcile/index.js';
import { FolderSource } from '../../src/source/index.js';
import { openStore, type SqliteStore } from '../../src/store/index.js';

export interface EngineFixture {
  dir: string;
  dataDir: string;
  manifestsDir: string;
  store: SqliteStore;
  engine: Engine;
  clock: ManualClock;
  config: ResolvedConfig;
  /** Replaces the manifests, reconciles them into the store and reloads the engine. */
  applyManifests(files: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real engine on a real SQLite file in a temp dir: manifests go through the one reconcile step
 * (reconcileOnce) as `taskops reconcile` and serve do, and time is a ManualClock.
 */
export async function engineFixture(opts: {
  manifests: Record<string, string>;
  config?: Record<string, unknown>;
  now?: string;
  driverDeps?: DriverDeps;
  logger?: EngineLogger;
}): Promise<EngineFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-engine-'));
  const dataDir = path.join(dir, 'data');
  const manifestsDir = path.join(dir, 'manifests');
  const configFile = path.join(dir, 'taskops.config.yaml');
  writeFileSync(configFile, stringify(opts.config ?? {}));
  const config = loadEngineConfig(configFile, {});
  const store = await openStore(dataDir);
  const clock = new ManualClock(opts.now ?? '2026-11-23T12:00:00Z');
  const engine = createEngine({
    store,
    dataDir,
    config,
    clock,
    random: () => 0.5,
    driverDeps: { random: () => 0.5, ...opts.driverDeps },
    ...(opts.logger ? { logger: opts.logger } : {}),
  });

  const applyManifests = async (files: Record<string, string>) => {
    mkdirSync(manifestsDir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(manifestsDir, name), text);
    const outcome = await reconcileOnce(new FolderSource(manifestsDir), store, clock, {
      dataDir,
      mode: 'apply',
      record: true,
      safety: { allowDeleteAll: true },
      load: { driverCatalog: driverCatalog(config.config) },
    });
    if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n') || outcome.message!);
    await engine.reload();
  };
  await applyManifests(opts.manifests);
  await engine.start();
  return {
    dir,
    dataDir,
    manifestsDir,
    store,
    engine,
    clock,
    config,
    applyManifests,
    close: async () => {
      await engine.stop(1000);
      await store.close();
    },
  };
}

/** A manifest document from a kind, a name and a spec. */
export function doc(kind: string, name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'taskops/v1', kind, metadata: { name }, spec });
}

export const docs = (...parts: string[]): string => parts.join('---\n');

/** A logger that keeps every line, for tests that check what the engine reported. */
export function memoryLogger(): EngineLogger & {
  lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, data?: Record<string, unknown>) =>
    void lines.push({ level, msg, ...(data ? { data } : {}) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
