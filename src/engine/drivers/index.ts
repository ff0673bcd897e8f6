export type {
  AttemptOutcome,
  Driver,
  DriverDeps,
  DriverRegistry,
  DriverRequest,
  DriverResult,
  MembersSource,
} from './types.js';
export { DriverConfigError } from './types.js';
export { BUILT_IN_OBJECT_TYPES, createDriverRegistry } from './registry.js';
export { createWebhookDriver } from './webhook.js';
export { createEmailDriver } from './email.js';
export { createCommandDriver, type CommandDetails } from './command.js';
export { createNoopDriver } from './noop.js';
export {
  createVergeosDriver,
  VERGEOS_VM_ACTIONS,
  type VergeosDetails,
  type VergeosDriver,
} from './vergeos.js';
export { VergeosClient, VergeosError } from './vergeos-client.js';
export {
  BACKOFF,
  RETRY_AFTER_CAP_MS,
  backoffDelay,
  parseRetryAfter,
  classifyStatus,
  retryPolicy,
  retryDelay,
  type RetryPolicy,
  type RetrySchedule,
} from './backoff.js';
export { sign, signatureHeaders, signingKey } from './signing.js';
