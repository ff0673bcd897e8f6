import { StoreError } from './errors.js';
import { openStore, type OpenStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreLocation {
  /** The data dir: the SQLite file's home, and the task logs' in both cases. */
  dataDir: string;
  /** A postgres:// URL: the shared store instead of SQLite. */
  url?: string | null;
}

/** postgres:// or postgresql://, as libpq reads them. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

/**
 * The store a command works on: PostgreSQL when a URL is given, else the SQLite file in the data dir. The
 * data-dir lock is SQLite's only: replicas on PostgreSQL share the store by design, the transitions and the
 * leader lease keep them apart.
 */
export async function openSelectedStore(where: StoreLocation, opts: OpenStoreOptions = {}): Promise<Store> {
  if (!where.url) return openStore(where.dataDir, opts);
  if (!isPostgresUrl(where.url)) {
    throw new StoreError(
      'the store URL must start with postgres:// or postgresql:// (check --store-url, TASKOPS_STORE_URL or ' +
        'store.urlFrom); leave it unset for the embedded SQLite store',
      'io',
    );
  }
  const { PostgresStore } = await import('./postgres.js');
  return PostgresStore.open(where.url);
}
