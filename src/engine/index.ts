export {
  Engine,
  EngineError,
  EngineOverloadedError,
  type EngineOptions,
  type EngineLogger,
  type EventInput,
} from './engine.js';
export { createEngine, type CreateEngineOptions } from './create.js';
export { matchEvent, type EventMatch, type TriggerDefinition } from './events/match.js';
export { TaskLogWriter, readTaskLogs, type TaskLogLine } from './tasklog.js';
export { replicaId } from './runs/ids.js';
export {
  ManualClock,
  systemClock,
  nextFirings,
  previewFirings,
  formatFiring,
  type Clock,
} from './schedule/index.js';
export { createDriverRegistry, type DriverRegistry, type DriverDeps } from './drivers/index.js';
export { upcomingFirings, type UpcomingFiring } from './upcoming.js';
export { buildState, type EngineState } from './state.js';
export { disabledWebhooks, enableWebhook, type DisabledWebhook } from './disabled-webhooks.js';
