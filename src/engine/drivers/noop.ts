import type { DriverConfig } from '../../manifest/types.js';
import type { Driver, DriverDeps } from './types.js';
import { unknownAction } from './types.js';

/** Does nothing and succeeds: for benchmarks and for trying out schedules and triggers safely. */
export function createNoopDriver(objectType: string, config: DriverConfig, _deps: DriverDeps = {}): Driver {
  const actions = Object.keys(config.actions ?? {});
  return {
    objectType,
    actions: () => [...actions],
    async run(req) {
      const action = req.task.spec.action;
      if (!actions.includes(action)) return unknownAction(objectType, action, actions);
      return { ok: true, attempts: 1 };
    },
  };
}
