import { createHash } from 'node:crypto';
import type { WebhookSpec } from '../manifest/types.js';
import { canonicalJson } from '../store/hash.js';
import type { DisabledWebhook, Store } from '../store/types.js';

export type { DisabledWebhook } from '../store/types.js';

export const specHash = (spec: WebhookSpec): string =>
  createHash('sha256').update(canonicalJson(spec)).digest('hex');

/** The webhooks still disabled: those whose spec has not changed since the 410 (pass the live specs). */
export async function disabledWebhooks(
  store: Store,
  live: ReadonlyMap<string, WebhookSpec>,
): Promise<Map<string, DisabledWebhook>> {
  const out = new Map<string, DisabledWebhook>();
  for (const [name, entry] of await store.listDisabledWebhooks()) {
    const spec = live.get(name);
    if (spec && entry.specHash === specHash(spec)) out.set(name, entry);
  }
  return out;
}

/** Why deliveries to `name` fail at once, or null when it is enabled. */
export async function disabledReason(store: Store, name: string, spec: WebhookSpec): Promise<string | null> {
  const entry = await store.getDisabledWebhook(name);
  if (!entry || entry.specHash !== specHash(spec)) return null;
  return (
    `webhook ${name}: disabled by the receiver (${entry.status} at ${entry.at}, run ${entry.runId}); ` +
    `nothing was sent. Re-enable it with \`taskops webhooks enable ${name}\` once the endpoint is back, or change the Webhook in git`
  );
}

/** Marks `name` disabled with the spec it has now; other webhooks' marks are left alone (one row each). */
export async function disableWebhook(
  store: Store,
  name: string,
  spec: WebhookSpec,
  entry: Omit<DisabledWebhook, 'specHash'>,
): Promise<void> {
  await store.disableWebhook(name, { ...entry, specHash: specHash(spec) });
}

/** Enables a disabled webhook; false when it was not disabled. */
export function enableWebhook(store: Store, name: string): Promise<boolean> {
  return store.enableWebhook(name);
}
