import type { TaskSpec } from '../../../src/manifest/types.js';
import type { DriverDeps } from '../../../src/engine/drivers/index.js';
import { secretPolicy } from '../../../src/manifest/index.js';

/** Every secret but the engine's own: these tests are about delivery; the allowlist has tests of its own. */
export const ANY_SECRET = secretPolicy({ env: ['*'], files: ['/**'] });

export const CANONICAL_PAYLOAD = '{"text": "Sync Error Alert: ${NAME} failed at ${DATE}"}';

export const webhookTask = (payload: unknown = CANONICAL_PAYLOAD): TaskSpec => ({
  objectType: 'webhook',
  action: 'send',
  target: { name: 'test-hook' },
  params: { payload },
});

/** Deps with fixed time and randomness and an empty environment. */
export function recordingDeps(over: DriverDeps = {}): DriverDeps {
  return {
    random: () => 0.5,
    now: () => new Date('2025-10-16T15:38:07Z'),
    env: {},
    ...over,
  };
}
