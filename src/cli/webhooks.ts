import type { Command } from 'commander';
import { enableWebhook } from '../engine/index.js';
import { escapeControl } from '../manifest/index.js';
import { globalOptions } from './context.js';
import { openOneShotStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { CliError } from './exit.js';
import { callServer } from './http-client.js';

export interface EnableOptions {
  server?: string;
  apiTokenFile?: string;
}

export async function webhooksEnableAction(name: string, opts: EnableOptions, cmd: Command): Promise<void> {
  let wasDisabled: boolean;
  if (opts.server) {
    const path = `/api/v1/webhooks/${encodeURIComponent(name)}/enable`;
    wasDisabled = (
      await callServer<{ wasDisabled: boolean }>(opts.server, 'POST', path, {
        tokenFile: opts.apiTokenFile,
      })
    ).data.wasDisabled;
  } else {
    const store = await openOneShotStore(
      globalOptions(cmd).dataDir,
      'webhooks enable',
      'Run it there: add --server URL.',
      storeUrl(cmd),
    );
    try {
      if (!(await store.getObject('Webhook', name)))
        throw new CliError(`Webhook/${escapeControl(name)} does not exist in the live state`);
      wasDisabled = await enableWebhook(store, name);
    } finally {
      await store.close();
    }
  }
  process.stdout.write(
    wasDisabled
      ? `Webhook/${escapeControl(name)} enabled: deliveries are sent again\n`
      : `Webhook/${escapeControl(name)} was not disabled\n`,
  );
}
