import type { Command } from 'commander';
import type { ReplayOptions } from '../replay.js';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-send a finished webhook delivery with the same webhook-id and body, and wait for it')
    .argument('<run-id>', 'the run of the delivery (taskops deliveries --failed lists them)')
    .option('--server <url>', 'ask a running `taskops serve` instead of running in this process')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
The replay is a new run (trigger kind replay, named after the run it re-sends) with a new series of
attempts under the Webhook's retry policy; the receiver gets the same webhook-id and the byte-identical
body, so it can drop the delivery if it already has it. Exit 0 when the replay succeeded, 1 otherwise.
With --server the replay is queued there and the command returns at once.

Examples:
  $ taskops replay run_3f2a9c01d4e5b6a7c8d9e0f1
  $ taskops replay run_3f2a9c01d4e5b6a7c8d9e0f1 --server http://127.0.0.1:8080`,
    )
    .action(async (runId: string, opts: ReplayOptions, cmd: Command) => {
      const { replayAction } = await import('../replay.js');
      await replayAction(runId, opts, cmd);
    });
}
