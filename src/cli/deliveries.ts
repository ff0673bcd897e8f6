import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import { listDeliveries, type DeliveryView } from '../server/deliveries.js';
import { globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { openReadOnlyStore } from './data-dir.js';
import { CliError, EXIT } from './exit.js';
import { callServer } from './http-client.js';
import { table, type Palette } from './output.js';
import { storeUrl } from './store.js';

const FORMATS = ['text', 'json'] as const;

function render(deliveries: readonly DeliveryView[], c: Palette): string {
  if (deliveries.length === 0) return c.dim('no deliveries') + '\n';
  const colour = (d: DeliveryView) =>
    d.status === 'succeeded'
      ? c.green(d.status)
      : d.status === 'failed'
        ? c.red(d.status)
        : c.yellow(d.status);
  // Names and errors come from committers and receivers: escaped.
  const e = escapeControl;
  return (
    table(
      deliveries.map((d) => [
        e(d.runId),
        e(d.webhook ?? '-'),
        e(d.task),
        `${colour(d)} (${d.vergeosStatus})`,
        String(d.attempts),
        e(d.deliveryId ?? '-'),
        d.trigger.kind === 'replay' ? `replay of ${e(d.trigger.name ?? '?')}` : d.trigger.kind,
        e(d.lastError ?? ''),
      ]),
      ['RUN', 'WEBHOOK', 'TASK', 'STATUS', 'ATTEMPTS', 'WEBHOOK-ID', 'TRIGGER', 'LAST ERROR'].map((h) =>
        c.bold(h),
      ),
    ) + '\n'
  );
}

export interface DeliveriesOptions {
  failed?: boolean;
  webhook?: string;
  limit: string;
  server?: string;
  apiTokenFile?: string;
  output: string;
}

export async function deliveriesAction(opts: DeliveriesOptions, cmd: Command): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS);
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new CliError(`--limit takes a whole number from 1 to 500 (got ${opts.limit})`, EXIT.usage);
  let deliveries: DeliveryView[];
  if (opts.server) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (opts.failed) query.set('failed', '1');
    if (opts.webhook) query.set('webhook', opts.webhook);
    deliveries = (
      await callServer<{ deliveries: DeliveryView[] }>(opts.server, 'GET', `/api/v1/deliveries?${query}`, {
        tokenFile: opts.apiTokenFile,
      })
    ).data.deliveries;
  } else {
    // A read: never creates a store, and reads beside a running serve.
    const store = await openReadOnlyStore(globalOptions(cmd).dataDir, storeUrl(cmd));
    try {
      deliveries = await listDeliveries(store, {
        failed: opts.failed ?? false,
        ...(opts.webhook ? { webhook: opts.webhook } : {}),
        limit,
      });
    } finally {
      await store.close();
    }
  }
  process.stdout.write(
    format === 'json' ? JSON.stringify(deliveries, null, 2) + '\n' : render(deliveries, stdoutPalette(cmd)),
  );
}
