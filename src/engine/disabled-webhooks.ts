import { createHash } from 'node:crypto';
import type { WebhookSpec } from '../manifest/types.js';
import { canonicalJson } from '../store/hash.js';
import type { Store } from '../store/types.js';

/** One meta key holds every disabled webhook: no new Store method, so every store (SQLite, PostgreSQL) has it. */
export const DISABLED_WEBHOOKS_KEY = 'webhooks.disabled';

/** A webhook the receiver disabled with 410 Gone. */
export interface DisabledWebhook {
  /** The status that disabled it (410). */
  status: number;
  /** When the answer came. */
  at: string;
  /** The run whose attempt got it. */
  runId: string;
  /** The spec it was disabled with: a change of the Webhook in git (another hash) enables it again. */
  specHash: string;
}

export const specHash = (spec: WebhookSpec): string =>
  createHash('sha256').update(canonicalJson(spec)).digest('hex');

async function readAll(store: Store): Promise<Record<string, DisabledWebhook>> {
  const text = await store.getMeta(DISABLED_WEBHOOKS_KEY);
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, DisabledWebhook>) : {};
  } catch {
    return {}; // a garbled value disables nothing: deliveries go on rather than stop for good
  }
}

/** The webhooks still disabled: those whose spec has not changed since the 410 (pass the live specs). */
export async function disabledWebhooks(
  store: Store,
  live: ReadonlyMap<string, WebhookSpec>,
): Promise<Map<string, DisabledWebhook>> {
  const out = new Map<string, DisabledWebhook>();
  for (const [name, entry] of Object.entries(await readAll(store))) {
    const spec = live.get(name);
    if (spec && entry.specHash === specHash(spec)) out.set(name, entry);
  }
  return out;
}

/** Why deliveries to `name` fail at once, or null when it is enabled. */
export async function disabledReason(store: Store, name: string, spec: WebhookSpec): Promise<string | null> {
  const entry = (await disabledWebhooks(store, new Map([[name, spec]]))).get(name);
  if (!entry) return null;
  return (
    `webhook ${name}: disabled by the receiver (${entry.status} at ${entry.at}, run ${entry.runId}); ` +
    `nothing was sent. Re-enable it with \`taskops webhooks enable ${name}\` once the endpoint is back, or change the Webhook in git`
  );
}

export async function disableWebhook(
  store: Store,
  name: string,
  spec: WebhookSpec,
  entry: Omit<DisabledWebhook, 'specHash'>,
): Promise<void> {
  const all = await readAll(store);
  all[name] = { ...entry, specHash: specHash(spec) };
  await store.setMeta(DISABLED_WEBHOOKS_KEY, JSON.stringify(all));
}

/** Enables a disabled webhook; false when it was not disabled. */
export async function enableWebhook(store: Store, name: string): Promise<boolean> {
  const all = await readAll(store);
  if (!(name in all)) return false;
  delete all[name];
  await store.setMeta(DISABLED_WEBHOOKS_KEY, JSON.stringify(all));
  return true;
}
