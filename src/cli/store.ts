import type { Command } from 'commander';
import { resolveSecret, SecretError } from '../engine/secrets.js';
import { openSelectedStore, StoreError, type OpenStoreOptions, type Store } from '../store/index.js';
import { engineConfig, globalOptions } from './context.js';
import { CliError } from './exit.js';

/**
 * The shared store's URL, if any: `--store-url`, else TASKOPS_STORE_URL, else the config's `store.urlFrom`
 * (read at start from the env or file it names: the operator's own reference, so the manifests' secrets
 * allowlist does not apply). Null means the embedded SQLite store.
 */
export function storeUrl(cmd: Command): string | null {
  const fromFlag = globalOptions(cmd).storeUrl;
  if (fromFlag) return fromFlag;
  const fromEnv = process.env.TASKOPS_STORE_URL;
  if (fromEnv) return fromEnv;
  const ref = engineConfig(cmd).config.store?.urlFrom;
  if (!ref) return null;
  try {
    return resolveSecret(ref);
  } catch (err) {
    if (err instanceof SecretError) throw new CliError(`store.urlFrom: ${err.message}`);
    throw err;
  }
}

/** The command's store (PostgreSQL when a store URL is set, else SQLite in the data dir) or a CliError. */
export async function openCommandStore(cmd: Command, opts: OpenStoreOptions = {}): Promise<Store> {
  const url = storeUrl(cmd);
  try {
    return await openSelectedStore({ dataDir: globalOptions(cmd).dataDir, url }, opts);
  } catch (err) {
    if (err instanceof StoreError) throw new CliError(err.message);
    throw err;
  }
}
