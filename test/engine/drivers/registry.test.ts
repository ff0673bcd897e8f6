import { describe, expect, it } from 'vitest';
import { createDriverRegistry, DriverConfigError } from '../../../src/engine/drivers/index.js';
import type { EngineConfig } from '../../../src/manifest/types.js';
import { driverRequest } from '../../helpers/driver-request.js';

const config: EngineConfig = {
  drivers: {
    vms: {
      type: 'command',
      actions: { 'power-on': ['virsh', 'start', '${NAME}'], 'power-off': ['virsh', 'shutdown', '${NAME}'] },
    },
    users: { type: 'noop', actions: { disable: ['unused'], enable: ['unused'] } },
  },
};

describe('driver registry', () => {
  it('offers webhook and email built in, plus the drivers the config declares', async () => {
    const registry = createDriverRegistry(config);
    expect(registry.catalog()).toEqual({
      webhook: ['send'],
      email: ['send'],
      vms: ['power-on', 'power-off'],
      users: ['disable', 'enable'],
    });
    expect(registry.get('vms')?.objectType).toBe('vms');
    expect(registry.get('networks')).toBeUndefined();
    await registry.close();
  });

  it('offers only the built-in types without a drivers section', async () => {
    const registry = createDriverRegistry({});
    expect(Object.keys(registry.catalog())).toEqual(['webhook', 'email']);
    await registry.close();
  });

  it('refuses a config that redefines a built-in type', () => {
    expect(() =>
      createDriverRegistry({ drivers: { webhook: { type: 'noop', actions: { send: ['x'] } } } }),
    ).toThrow(new DriverConfigError('drivers.webhook: webhook is built in and cannot be redefined'));
  });
});

describe('noop driver', () => {
  it('succeeds at once for its actions and refuses others', async () => {
    const users = createDriverRegistry(config).get('users');
    const spec = { objectType: 'users', action: 'disable' };
    expect(await users?.run(driverRequest(spec))).toEqual({ ok: true, attempts: 1 });
    expect((await users?.run(driverRequest({ ...spec, action: 'delete' })))?.error).toBe(
      'users has no action delete; it offers: disable, enable',
    );
  });
});
