import type { Command } from 'commander';
import { enableWebhook } from '../engine/index.js';
import { escapeControl } from '../manifest/index.js';
import { globalOptions } from './context.js';
import { openOneShotStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { CliError } from './exit.js';
import { callServer } from './http-client.js';

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('operate on Webhooks: re-enable one its receiver disabled');
  webhooks
    .command('enable')
    .description('re-enable a webhook its receiver disabled with 410 Gone')
    .argument('<name>', 'the Webhook name')
    .option('--server <url>', 'ask a running `taskops serve` instead of changing the data dir')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .addHelpText(
      'after',
      `
A 410 answer disables a webhook: later deliveries fail at once with "disabled by the receiver". It is
enabled again by this command, or by any change of the Webhook in git. taskops status lists disabled webhooks.

Examples:
  $ taskops webhooks enable slack-alerts
  $ taskops webhooks enable slack-alerts --server http://127.0.0.1:8080`,
    )
    .action(async (name: string, opts: { server?: string; apiTokenFile?: string }, cmd: Command) => {
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
    });
}
