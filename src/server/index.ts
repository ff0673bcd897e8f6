export { buildServer, type ServerOptions } from './app.js';
export { Metrics } from './metrics.js';
export { bearerAuth } from './auth.js';
export { isLoopback } from './loopback.js';
export { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
export { statusReport, syncStatus, type StatusReport, type KindCounts } from './status.js';
export type { SyncController, SyncStatus, SyncOutcome, SyncError } from './types.js';
export {
  deliveryView,
  listDeliveries,
  storedDisabledWebhooks,
  type DeliveryView,
  type DeliveryQuery,
} from './deliveries.js';
export { EVENT_BODY } from './routes/events.js';
