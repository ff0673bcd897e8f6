import { describe, expect, it } from 'vitest';
import { driverCatalog } from '../../src/config/index.js';
import { BUILT_IN_OBJECT_TYPES, createDriverRegistry } from '../../src/engine/drivers/index.js';
import { BUILT_IN_DRIVERS, DRIVER_TYPES, builtInDriver } from '../../src/manifest/index.js';
import type { EngineConfig } from '../../src/manifest/types.js';

const config: EngineConfig = {
  drivers: {
    vms: { type: 'vergeos', url: 'https://vergeos.example.com', auth: { tokenFrom: { env: 'K' } } },
    users: { type: 'noop', actions: { disable: ['x'] } },
    hosts: { type: 'command', actions: { reboot: ['true'] } },
  },
};

describe('the driver declarations (one registry)', () => {
  it('the engine builds exactly the declared built-in types, offering the declared actions', async () => {
    expect([...BUILT_IN_OBJECT_TYPES].sort()).toEqual(Object.keys(BUILT_IN_DRIVERS).sort());
    const registry = createDriverRegistry(config, { env: {} });
    try {
      // What validation offers (the config's catalog) is what the engine's drivers carry out.
      expect(registry.catalog()).toEqual(driverCatalog(config));
      expect(driverCatalog(config).vms).toEqual([...DRIVER_TYPES.vergeos.actions]);
    } finally {
      await registry.close();
    }
  });

  it('declares what each built-in type targets and how its ${NAME} is chosen', () => {
    expect(builtInDriver('webhook')).toMatchObject({
      target: 'webhook',
      params: 'payload',
      deliveries: true,
    });
    expect(builtInDriver('email')).toMatchObject({ target: 'none', nameIsEventObject: true });
    expect(builtInDriver('vms')).toBeUndefined();
    expect(builtInDriver('constructor')).toBeUndefined();
  });
});
