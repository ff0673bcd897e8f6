export type * from './types.js';
export { RUN_STATUSES, FINAL_RUN_STATUSES } from './types.js';
export { StoreError } from './errors.js';
export { canonicalJson, contentHash } from './hash.js';
export { MIGRATIONS } from './migrations.js';
export { openStore, SqliteStore, STORE_FILE, type OpenStoreOptions } from './sqlite.js';
export { appendAudit, auditLogPath, recoverAudit, type AuditEntry } from './audit.js';
export {
  dataDirHolder,
  lockDataDir,
  DataDirInUseError,
  DATA_DIR_LOCK_FILE,
  type DataDirHolder,
  type DataDirLock,
} from './datadir-lock.js';
export { PG_MIGRATIONS } from './postgres-migrations.js';
export { openSelectedStore, isPostgresUrl, type StoreLocation } from './open.js';
// PostgresStore lives in './postgres.js', imported from there: re-exported here, it would load `pg` into every
// process that touches a store, SQLite ones included. openSelectedStore loads it when a URL asks for it.
