import { BUILT_IN_DRIVERS, type BuiltInObjectType } from '../../manifest/drivers.js';
import { secretPolicy } from '../../manifest/secret-policy.js';
import type { DriverConfig, EngineConfig } from '../../manifest/types.js';
import { createCommandDriver } from './command.js';
import { createEmailDriver } from './email.js';
import { createNoopDriver } from './noop.js';
import type { Driver, DriverDeps, DriverRegistry } from './types.js';
import { DriverConfigError } from './types.js';
import { createVergeosDriver } from './vergeos.js';
import { createWebhookDriver } from './webhook.js';

type DriverFactory = (objectType: string, config: DriverConfig, deps: DriverDeps) => Driver;

/** Config `drivers.<objectType>.type` → the driver it builds. A new driver is one file and one line here. */
const CONFIGURABLE: Record<DriverConfig['type'], DriverFactory> = {
  command: createCommandDriver,
  noop: createNoopDriver,
  vergeos: createVergeosDriver,
};

/** The built-in object types' implementations, one per declaration in manifest/drivers.ts. */
const BUILT_IN: Record<BuiltInObjectType, (config: EngineConfig, deps: DriverDeps) => Driver> = {
  webhook: (config, deps) =>
    createWebhookDriver(deps, { ...config.webhooks, secrets: secretPolicy(config.secrets) }),
  email: (config, deps) => createEmailDriver(config.smtp, deps),
};

export const BUILT_IN_OBJECT_TYPES = Object.keys(BUILT_IN_DRIVERS) as BuiltInObjectType[];

/**
 * The drivers an engine offers: webhook and email always, plus the config's `drivers` section. Webhooks
 * read only the secrets of `config.secrets`; the email driver's SMTP password is the operator's own.
 */
export function createDriverRegistry(config: EngineConfig, deps: DriverDeps = {}): DriverRegistry {
  const drivers = new Map<string, Driver>(
    BUILT_IN_OBJECT_TYPES.map((type) => [type, BUILT_IN[type](config, deps)]),
  );
  for (const [objectType, driverConfig] of Object.entries(config.drivers ?? {})) {
    if (!driverConfig) continue;
    if (drivers.has(objectType)) {
      throw new DriverConfigError(`drivers.${objectType}: ${objectType} is built in and cannot be redefined`);
    }
    const factory = CONFIGURABLE[driverConfig.type];
    if (!factory) {
      throw new DriverConfigError(
        `drivers.${objectType}.type: unknown driver type ${String(driverConfig.type)}; known: ${Object.keys(CONFIGURABLE).join(', ')}`,
      );
    }
    drivers.set(objectType, factory(objectType, driverConfig, deps));
  }

  return {
    get: (objectType) => drivers.get(objectType),
    catalog: () => Object.fromEntries([...drivers].map(([type, driver]) => [type, driver.actions()])),
    async close() {
      await Promise.all([...drivers.values()].map((driver) => driver.close?.()));
    },
  };
}
