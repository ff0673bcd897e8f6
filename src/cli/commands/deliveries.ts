import type { Command } from 'commander';
import type { DeliveriesOptions } from '../deliveries.js';

export function registerDeliveries(program: Command): void {
  program
    .command('deliveries')
    .description('webhook deliveries, newest first; --failed lists the dead letters (attempts used up)')
    .option('--failed', 'only deliveries that ended failed')
    .option('--webhook <name>', 'only deliveries to this Webhook')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--server <url>', 'ask a running `taskops serve` instead of reading the data dir')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
STATUS is the run state with VergeOS's delivery status beside it (queued, running, sent, error).
Re-send a dead letter with the same webhook-id and body: taskops replay RUN_ID.

Examples:
  $ taskops deliveries --failed
  $ taskops deliveries --webhook slack-alerts --output json | jq '.[0].attemptLog'
  $ taskops deliveries --failed --server http://127.0.0.1:8080`,
    )
    .action(async (opts: DeliveriesOptions, cmd: Command) => {
      const { deliveriesAction } = await import('../deliveries.js');
      await deliveriesAction(opts, cmd);
    });
}
