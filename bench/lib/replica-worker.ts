/**
 * One replica of bench/replicas.bench.ts, in its own process: a real Engine on the store named by
 * BENCH_STORE (a postgres:// URL, or a data dir for SQLite), noop driver. Prints `ready`, waits for `go` on
 * stdin, submits BENCH_EVENTS events (each makes one run) from 8 concurrent submitters, waits until
 * its runs are done, prints one JSON line {runs, ms, storeCalls}.
 */
import { createInterface } from 'node:readline';
import { createDriverRegistry, Engine } from '../../src/engine/index.js';
import { openSelectedStore, type Store } from '../../src/store/index.js';
import { loadEngineConfig } from '../../src/config/index.js';

const target = process.env.BENCH_STORE!;
const events = Number(process.env.BENCH_EVENTS);
const id = process.env.BENCH_REPLICA ?? 'r1';
const configFile = process.env.BENCH_CONFIG!;

function counting(store: Store, calls: Record<string, number>): Store {
  return new Proxy(store, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

const resolved = loadEngineConfig(configFile, {});
const postgres = target.startsWith('postgres');
const store = await openSelectedStore({ dataDir: postgres ? '.' : target, url: postgres ? target : null });
const calls: Record<string, number> = {};
let runs = 0;
const engine = new Engine({
  store: counting(store, calls),
  dataDir: process.env.BENCH_DATA_DIR!,
  drivers: createDriverRegistry(resolved.config),
  defaultZone: 'UTC',
  catchUpWindowMs: resolved.catchUpWindowMs,
  maxConcurrentRuns: resolved.config.maxConcurrentRuns,
  instanceId: id,
  taskLogReplica: id,
  onRunFinished: () => runs++,
});
await engine.start();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
const started = performance.now();
// As many submitters as the floor has loops: API requests arrive concurrently, and the intake batches them.
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < events) {
      const i = next++;
      await engine.submitEvent({ type: 'bench', name: 'ping', object: `${id}-${i}`, fields: {} });
    }
  }),
);
await engine.whenIdle();
const ms = performance.now() - started;
for (const key of Object.keys(calls)) calls[key] = Math.round((calls[key]! / Math.max(runs, 1)) * 100) / 100;
process.stdout.write(JSON.stringify({ runs, ms, storeCallsPerRun: calls }) + '\n');
await engine.stop(1000);
await store.close();
process.exit(0);
