export { buildServer, type ServerOptions } from './app.js';
export { Metrics } from './metrics.js';
export { bearerAuth, isLoopback } from './auth.js';
export { statusReport, type StatusReport, type KindCounts } from './status.js';
export type { SyncController, SyncStatus, SyncOutcome, SyncError } from './types.js';
