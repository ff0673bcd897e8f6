import type { DriverConfig, EngineConfig } from './types.js';

/** What a task's `target` is for a driver: a Webhook manifest, nothing (email), or objects the driver acts on. */
export type TargetKind = 'webhook' | 'none' | 'objects';

/**
 * What a driver offers, declared once: validation (semantic, references, config), the engine (targets,
 * ${NAME}, system events), metrics and the API read this. The implementations live in engine/drivers,
 * keyed by the same names; no driver name is written anywhere else.
 */
export interface DriverDeclaration {
  /** The actions offered; null: the keys of the config's `actions` (command, noop). */
  actions: readonly string[] | null;
  target: TargetKind;
  /** How `params` is checked beyond the task schema: a JSON payload template, or nothing more. */
  params: 'payload' | 'schema';
  /** ${NAME} is the event's object (an alert reports on the sync that failed), not the task's target. */
  nameIsEventObject: boolean;
  /** Runs are deliveries: counted in the delivery metrics; giving up emits `webhooks/exhausted`. */
  deliveries: boolean;
}

/** Object types every engine has, whatever its config. */
export const BUILT_IN_DRIVERS = {
  webhook: {
    actions: ['send'],
    target: 'webhook',
    params: 'payload',
    nameIsEventObject: true,
    deliveries: true,
  },
  email: { actions: ['send'], target: 'none', params: 'schema', nameIsEventObject: true, deliveries: false },
} as const satisfies Record<string, DriverDeclaration>;

/** `drivers.<objectType>.type` of the engine config → what such a driver offers. */
export const DRIVER_TYPES = {
  command: {
    actions: null,
    target: 'objects',
    params: 'schema',
    nameIsEventObject: false,
    deliveries: false,
  },
  noop: { actions: null, target: 'objects', params: 'schema', nameIsEventObject: false, deliveries: false },
  vergeos: {
    actions: ['power-on', 'power-off', 'kill', 'reset'],
    target: 'objects',
    params: 'schema',
    nameIsEventObject: false,
    deliveries: false,
  },
} as const satisfies Record<DriverConfig['type'], DriverDeclaration>;

export type BuiltInObjectType = keyof typeof BUILT_IN_DRIVERS;

export function builtInDriver(objectType: string): DriverDeclaration | undefined {
  return Object.hasOwn(BUILT_IN_DRIVERS, objectType)
    ? BUILT_IN_DRIVERS[objectType as BuiltInObjectType]
    : undefined;
}

/** The object types whose runs are deliveries (`taskops deliveries`, replay, webhooks/exhausted). */
export const DELIVERY_OBJECT_TYPES: readonly string[] = Object.entries(BUILT_IN_DRIVERS)
  .filter(([, d]) => d.deliveries)
  .map(([type]) => type);

/** The declaration behind an object type: built in, or the config's driver for it. */
export function driverDeclaration(objectType: string, config?: EngineConfig): DriverDeclaration | undefined {
  const builtIn = builtInDriver(objectType);
  if (builtIn) return builtIn;
  const configured = config?.drivers?.[objectType];
  return configured ? DRIVER_TYPES[configured.type] : undefined;
}

/** Object type → the actions an engine with this config offers (built-in types included). */
export function driverCatalog(config: EngineConfig): Record<string, string[]> {
  const catalog: Record<string, string[]> = {};
  for (const [type, d] of Object.entries(BUILT_IN_DRIVERS)) catalog[type] = [...d.actions];
  for (const [type, driver] of Object.entries(config.drivers ?? {})) {
    if (!driver) continue;
    const fixed = DRIVER_TYPES[driver.type].actions;
    catalog[type] = fixed ? [...fixed] : Object.keys(driver.actions ?? {});
  }
  return catalog;
}
