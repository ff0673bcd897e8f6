import type { Command } from 'commander';
import { driverCatalog } from '../config/index.js';
import { parseDuration } from '../config/index.js';
import { createEngine, replicaId, type EngineLogger } from '../engine/index.js';
import { secretPolicy } from '../manifest/index.js';
import { ValidatedRevisionCache } from '../reconcile/index.js';
import { GitSource } from '../source/index.js';
import { DataDirInUseError, openSelectedStore, SqliteStore, StoreError, type Store } from '../store/index.js';
import { buildServer, isLoopback, Metrics } from '../server/index.js';
import { GitOpsLoop } from '../server/gitops.js';
import { ReplicaMembership } from '../server/replicas.js';
import { readApiToken } from './api-token.js';
import { serveStarted, tuneHeapForServe } from './heap-flags.js';
import { engineConfig, globalOptions } from './context.js';
import { CliError, EXIT } from './exit.js';
import { useColour } from './output.js';
import { chooseSource, displayRoot } from './reconcile.js';
import { logRunFinished, serveLogger } from './serve-log.js';
import { storeUrl } from './store.js';
import { SHUTDOWN_DEADLINE_MS } from './commands/serve.js';

export interface ServeOptions {
  listen: string;
  pollInterval: string;
  apiTokenFile?: string;
  autoApply: boolean;
  maxDeleteShare: number;
  repo?: string;
  ref?: string;
  path?: string;
  logLevel: string;
  logFormat: string;
}

/**
 * How often the engine looks for changes another process (a `taskops reconcile`, the leader replica) wrote to
 * the store. With PostgreSQL the change feed (LISTEN/NOTIFY) reloads at once; this poll only backs it up.
 */
const STORE_WATCH_MS = 2000;
const DEFAULT_LEADER_LEASE_MS = 10_000;
/**
 * With replicas: how old a pending event must be before another replica takes it on. The replica that took
 * it processes it within milliseconds; one still pending after this was left by a replica that died.
 */
const STRANDED_EVENT_MS = 15_000;

/**
 * The heap flags again once the store's checkpoint worker runs: a worker thread's start sets V8's flags back to
 * the process's own (the ones set before were silently undone), and its answer to a checkpoint proves it has
 * started.
 */
async function tuneHeap(store: Store): Promise<void> {
  if (store instanceof SqliteStore) await store.checkpointNow();
  tuneHeapForServe();
}

export async function serveAction(path: string | undefined, opts: ServeOptions, cmd: Command): Promise<void> {
  // Set by bin/taskops.js before the modules loaded; again here for a serve started another way (tests).
  tuneHeapForServe();
  const { dataDir } = globalOptions(cmd);
  const resolved = engineConfig(cmd);
  const { host, port } = parseListen(opts.listen);
  const pollMs = parseDuration(opts.pollInterval);
  if (pollMs === undefined || pollMs < 1000) {
    throw new CliError(
      `--poll-interval takes a duration of at least 1s, like 30s or 5m (got ${opts.pollInterval})`,
      EXIT.usage,
    );
  }
  const token = readApiToken(opts.apiTokenFile);
  if (!token && !isLoopback(host)) {
    throw new CliError(
      `refusing to listen on ${host} without an API token: set TASKOPS_API_TOKEN or --api-token-file, or listen on 127.0.0.1`,
    );
  }
  const source = chooseSource(path, { ...opts, output: 'text' }, dataDir);
  const log = serveLogger(
    opts.logLevel,
    opts.logFormat,
    useColour(process.stderr, !globalOptions(cmd).color),
  );
  const engineLog: EngineLogger = {
    info: (msg, data) => log.info(data ?? {}, msg),
    warn: (msg, data) => log.warn(data ?? {}, msg),
    error: (msg, data) => log.error(data ?? {}, msg),
  };
  const store = await openEngineStore(dataDir, storeUrl(cmd), opts.listen, engineLog);
  await tuneHeap(store);
  // Replicas share a PostgreSQL store: each has an id (runs' owner, status, metrics, its task-log files).
  const registry = store.replicas;
  const replica = registry ? chooseReplicaId(resolved.config.store?.replicaId) : null;
  const metrics = new Metrics(replica ? { replica } : {});
  const secrets = secretPolicy(resolved.config.secrets);
  const engine = createEngine({
    store,
    dataDir,
    config: resolved,
    logger: engineLog,
    ...(replica ? { instanceId: replica, taskLogReplica: replica } : {}),
    onRunFinished: (run, result) => {
      metrics.runFinished(run, result);
      logRunFinished(log, run);
    },
  });
  metrics.watchRecording(() => engine.recordingHealth());
  let gitops: GitOpsLoop | null = null;
  const membership =
    registry && replica
      ? new ReplicaMembership({
          registry,
          id: replica,
          listen: opts.listen,
          leaseMs: leaderLeaseMs(resolved.config.store?.leaderLease),
          logger: engineLog,
          // A new leader follows the source at once instead of at its next poll.
          onLead: () => void gitops?.syncNow().catch(() => undefined),
        })
      : null;
  const validatedCache = new ValidatedRevisionCache({
    dataDir,
    config: { settings: resolved.config, file: resolved.file },
    onEvent: (e) =>
      e.result === 'ignored'
        ? log.warn({ file: e.file, reason: e.reason }, 'the validated revision cache was unusable')
        : log.debug(e, `validated revision cache ${e.result}`),
    // Only the next restart reads it: the first sync applies and serves without waiting for the write.
    background: true,
  });
  gitops = new GitOpsLoop({
    source,
    ...(source instanceof GitSource ? {} : { watchFolder: path ?? '.' }),
    store,
    engine,
    dataDir,
    metrics,
    logger: engineLog,
    autoApply: opts.autoApply,
    safety: { allowDeleteAll: false, maxDeleteShare: opts.maxDeleteShare },
    load: {
      driverCatalog: driverCatalog(resolved.config),
      secretPolicy: secrets,
      defaultZone: resolved.config.defaultTimezone,
      displayRoot: displayRoot(source, path),
      // The loader's threads, like the checkpoint worker, set V8's flags back when they start.
      onCheckThreadsStarted: tuneHeapForServe,
      cache: validatedCache,
    },
    ...(membership ? { leadership: membership } : {}),
  });
  let ready = false;
  const app = buildServer({
    engine,
    store,
    metrics,
    sync: gitops,
    defaultZone: resolved.config.defaultTimezone,
    driverCatalog: driverCatalog(resolved.config),
    secretPolicy: secrets,
    apiToken: token,
    logger: log,
    isReady: () => ready,
    ...(membership ? { replica: () => membership.status() } : {}),
  });

  // The listener first: a serve that cannot be reached must not recover, apply or schedule anything.
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => undefined);
    await store.close();
    throw bindError(err, opts.listen);
  }
  try {
    await engine.start();
  } catch (err) {
    await app.close();
    await store.close();
    throw err;
  }
  if (registry) {
    await registry.watchChanges(
      () => void engine.reloadIfChanged().catch((err: unknown) => log.error({ err }, 'reload failed')),
      (err) => log.warn({ error: err.message }, 'the store change feed broke: reloading on the poll only'),
    );
    // An apply that committed between the engine's start and the LISTEN was never notified here.
    await engine.reloadIfChanged();
  }
  await membership?.start();
  const first = await gitops.syncNow().catch(() => null);
  if (first?.error)
    log.warn({ error: first.error }, 'the first sync was refused; serving the last applied state');
  await gitops.start(pollMs);
  const storeWatch = setInterval(
    () => void engine.reloadIfChanged().catch((err: unknown) => log.error({ err }, 'reload failed')),
    STORE_WATCH_MS,
  );
  let adopting = false;
  const strandedEvents = registry
    ? setInterval(() => {
        if (adopting) return;
        adopting = true;
        engine
          .recoverPendingEvents(new Date(Date.now() - STRANDED_EVENT_MS))
          .catch((err: unknown) => log.error({ err }, 'could not take on events left by a stopped replica'))
          .finally(() => (adopting = false));
      }, STRANDED_EVENT_MS / 3)
    : null;
  ready = true;
  // The first sync's cache write still builds its files: the young generation may grow once it is done.
  void validatedCache.flush().then(serveStarted);
  log.info(
    { listen: `${host}:${port}`, source: source.describe(), dataDir, ...(replica ? { replica } : {}) },
    'taskops serving',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(EXIT.error), SHUTDOWN_DEADLINE_MS + 1500);
    force.unref();
    clearInterval(storeWatch);
    if (strandedEvents) clearInterval(strandedEvents);
    await app.close();
    await gitops.stop();
    // A stop before it is written only makes the next start validate in full.
    await validatedCache.flush();
    await membership?.stop();
    await engine.stop(SHUTDOWN_DEADLINE_MS);
    await store.close();
    log.flush();
    process.exit(EXIT.ok);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  // Serve until a signal arrives.
  await new Promise<never>(() => undefined);
}

/** This replica's id: the config's, else TASKOPS_REPLICA_ID, else host-pid-random. */
function chooseReplicaId(configured: string | undefined): string {
  const id = process.env.TASKOPS_REPLICA_ID || configured || replicaId();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(id))
    throw new CliError(
      `TASKOPS_REPLICA_ID must be letters, digits, '.', '_' or '-' (up to 63, names files and metrics); got ${JSON.stringify(id)}`,
    );
  return id;
}

function leaderLeaseMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LEADER_LEASE_MS;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000)
    throw new CliError(`store.leaderLease takes a duration of at least 1s, like 10s (got ${value})`);
  return ms;
}

/**
 * The store: SQLite with the data dir locked for this serve (a second engine on it is refused, exit 1), or
 * the shared PostgreSQL store that several serve replicas open at once.
 */
async function openEngineStore(
  dataDir: string,
  url: string | null,
  listen: string,
  log: EngineLogger,
): Promise<Store> {
  try {
    return await openSelectedStore(
      { dataDir, url },
      {
        lock: { command: 'serve', listen, startedAt: new Date() },
        backgroundCheckpoints: {
          onError: (error) =>
            log.error('background WAL checkpoints failed: the engine checkpoints on its own again', {
              error,
            }),
        },
      },
    );
  } catch (err) {
    if (err instanceof DataDirInUseError && err.holder.command === 'serve') {
      throw new CliError(
        `${err.message}: one engine per data dir. Stop that serve first, or give this one its own --data-dir.`,
      );
    }
    if (err instanceof StoreError)
      throw new CliError(`${err.message}; wait for it to finish, then start serve again.`);
    throw err;
  }
}

/** A failed bind as the operator needs it: which address, why, and what to do. */
function bindError(err: unknown, listen: string): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new CliError(
      `cannot listen on ${listen}: the address is in use by another process (EADDRINUSE). ` +
        'Pick another --listen, or stop the process that holds it. Nothing was started.',
    );
  if (code === 'EACCES')
    return new CliError(
      `cannot listen on ${listen}: permission denied (EACCES); ports below 1024 need privileges. ` +
        'Pick another --listen (e.g. port 8080). Nothing was started.',
    );
  if (code === 'EADDRNOTAVAIL')
    return new CliError(
      `cannot listen on ${listen}: no network interface has this address (EADDRNOTAVAIL). ` +
        'Pick another --listen. Nothing was started.',
    );
  return new CliError(`cannot listen on ${listen}: ${(err as Error).message}. Nothing was started.`);
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new CliError(`--listen takes HOST:PORT, like 127.0.0.1:8080 (got ${value})`, EXIT.usage);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
