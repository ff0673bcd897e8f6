import type { Command } from 'commander';
import { createEngine, EngineError, type Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { RunRecord } from '../store/types.js';
import { engineConfig, globalOptions } from './context.js';
import { openOneShotStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { CliError } from './exit.js';

export interface OneShotEngine {
  engine: Engine;
  store: Store;
  /** Every run that finished in this process, in order. */
  finished: RunRecord[];
  close(): Promise<void>;
}

/**
 * An engine on the data dir for one command: live state loaded, no scheduler, closed afterwards. The data
 * dir stays locked meanwhile: refused beside a running serve (use --server), and a serve started during the
 * command is refused instead of recovering this command's runs under its feet.
 */
export async function oneShotEngine(cmd: Command): Promise<OneShotEngine> {
  const { dataDir } = globalOptions(cmd);
  const config = engineConfig(cmd);
  const store = await openOneShotStore(dataDir, cmd.name(), 'Run it there: add --server URL.', storeUrl(cmd));
  const finished: RunRecord[] = [];
  const engine = createEngine({ store, dataDir, config, onRunFinished: (run) => finished.push(run) });
  await engine.startOneShot();
  return {
    engine,
    store,
    finished,
    close: async () => {
      await engine.stop(10_000);
      await store.close();
    },
  };
}

/**
 * Starts runs on a one-shot engine, waits until every run (and any run they cause) is done, and returns
 * the finished runs `started` selects. Engine errors become CLI errors (exit 1).
 */
export async function runToCompletion(
  cmd: Command,
  start: (engine: Engine) => Promise<(run: RunRecord) => boolean>,
): Promise<RunRecord[]> {
  const ctx = await oneShotEngine(cmd);
  try {
    const selects = await start(ctx.engine);
    // Retries included: a webhook run's delayed attempts are part of what the command waits for.
    await ctx.engine.whenIdle({ delayed: true });
    return ctx.finished.filter(selects);
  } catch (err) {
    if (err instanceof EngineError) throw new CliError(err.message);
    throw err;
  } finally {
    await ctx.close();
  }
}
