import { afterEach, beforeEach } from 'vitest';
import type { TaskSpec } from '../../../src/manifest/types.js';
import type { Driver, DriverDeps } from '../../../src/engine/drivers/index.js';
import { secretPolicy } from '../../../src/manifest/index.js';
import { startReceiver, type Receiver } from '../../helpers/http-receiver.js';

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

/** What a webhook test talks to: the receiver of this test, and the driver under test, if it made one. */
export interface WebhookPeer {
  receiver: Receiver;
  driver: Driver | undefined;
}

/**
 * Gives each test a fresh receiver on 127.0.0.1, and closes the driver it made (its keep-alive agent) and
 * then the receiver after it. Call once at the top of a test file.
 */
export function eachTestReceiver(): WebhookPeer {
  const peer = {} as WebhookPeer;
  beforeEach(async () => {
    peer.receiver = await startReceiver();
  });
  afterEach(async () => {
    await peer.driver?.close?.();
    peer.driver = undefined;
    await peer.receiver.close();
  });
  return peer;
}
