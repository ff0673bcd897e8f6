import type { Command } from 'commander';
import type { EnableOptions } from '../webhooks.js';

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
    .action(async (name: string, opts: EnableOptions, cmd: Command) => {
      const { webhooksEnableAction } = await import('../webhooks.js');
      await webhooksEnableAction(name, opts, cmd);
    });
}
