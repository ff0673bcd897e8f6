import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataDirInUseError,
  openSelectedStore,
  openStore,
  STORE_FILE,
  StoreError,
  type DataDirHolder,
  type Store,
} from '../store/index.js';
import { CliError } from './exit.js';

/**
 * The store for a one-shot command that changes the data dir (`reconcile` that applies, `run`, in-process
 * `emit`), held for the command's whole life so it never races an engine: refused while `serve` (or
 * another such command) holds the data dir. `instead` says what to run against a serve. With a store `url`
 * (PostgreSQL, see store.ts) there is no lock: the store is shared with the serve replicas, whose
 * transitions keep them apart.
 */
export async function openOneShotStore(
  dataDir: string,
  command: string,
  instead: string,
  url: string | null = null,
): Promise<Store> {
  try {
    return await openSelectedStore({ dataDir, url }, { lock: { command, startedAt: new Date() } });
  } catch (err) {
    if (err instanceof DataDirInUseError) throw new CliError(inUseMessage(err, instead));
    if (err instanceof StoreError) throw new CliError(err.message);
    throw err;
  }
}

function inUseMessage(err: DataDirInUseError, instead: string): string {
  if (err.holder.command !== 'serve') return `${err.message}: wait for it to finish, then try again.`;
  return (
    `${err.message}${err.holder.listen ? `, listening on ${err.holder.listen}` : ''}: ` +
    `a running serve owns this data dir, so this command does not run beside it. ${instead.replace('URL', serverUrl(err.holder))}`
  );
}

/** The URL a refused command can give --server: serve's listen address, reached over loopback when it binds all. */
export function serverUrl(holder: DataDirHolder): string {
  if (!holder.listen) return 'URL';
  const listen = holder.listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  return `http://${listen}`;
}

/**
 * The store for a read command (status, preview, get, describe, deliveries): opened read-only, never created, so a
 * mistyped --data-dir is an error that names it instead of an empty store. Never locked: it reads beside
 * a running serve. With a store `url`, the PostgreSQL store instead (no data dir needed).
 */
export async function openReadOnlyStore(dataDir: string, url: string | null = null): Promise<Store> {
  if (!url) requireDataDir(dataDir);
  try {
    return await openSelectedStore({ dataDir, url }, { readOnly: true });
  } catch (err) {
    if (err instanceof StoreError && err.code === 'not-found') {
      throw new CliError(
        `the data dir ${dataDir} holds no store (${STORE_FILE}): nothing was reconciled into it yet; ` +
          'run taskops reconcile or serve with this --data-dir first, or read a running engine with --server URL',
      );
    }
    if (err instanceof StoreError) throw new CliError(err.message);
    throw err;
  }
}

/** A read command's data dir must exist: it is an error that names the directory and says where one comes from. */
export function requireDataDir(dataDir: string): void {
  if (existsSync(dataDir)) return;
  throw new CliError(
    `the data dir ${dataDir} does not exist: give --data-dir (or TASKOPS_DATA_DIR) the directory that ` +
      'serve or reconcile uses, or read a running engine with --server URL',
  );
}

/**
 * The live state a dry run plans against: the data dir's store opened read-only, or, before anything was
 * reconciled into it, an empty store in a temporary folder removed on close. A dry run never creates state.
 */
export async function openDryRunStore(dataDir: string): Promise<Store> {
  if (existsSync(join(dataDir, STORE_FILE))) return openReadOnlyStore(dataDir);
  const scratch = mkdtempSync(join(tmpdir(), 'taskops-dry-run-'));
  const store = await openStore(scratch);
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    rmSync(scratch, { recursive: true, force: true });
  };
  return store;
}
