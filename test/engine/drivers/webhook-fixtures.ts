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

/** Deps that record the backoff delays asked for instead of sleeping them. */
export function recordingDeps(over: DriverDeps = {}): DriverDeps & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => new Date('2025-10-16T15:38:07Z'),
    env: {},
    ...over,
  };
}
