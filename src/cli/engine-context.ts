import type { Command } from 'commander';
import { createEngine, type Engine } from '../engine/index.js';
import { openStore, type Store } from '../store/index.js';
import type { RunRecord } from '../store/types.js';
import { engineConfig, globalOptions } from './context.js';

export interface OneShotEngine {
  engine: Engine;
  store: Store;
  /** Every run that finished in this process, in order. */
  finished: RunRecord[];
  close(): Promise<void>;
}

/** An engine on the data dir for one command: live state loaded, no scheduler, closed afterwards. */
export async function oneShotEngine(cmd: Command): Promise<OneShotEngine> {
  const { dataDir } = globalOptions(cmd);
  const config = engineConfig(cmd);
  const store = await openStore(dataDir);
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
