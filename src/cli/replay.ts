import type { Command } from 'commander';
import type { RunRecord } from '../store/types.js';
import { parseOutputFormat } from './context.js';
import { runToCompletion } from './engine-context.js';
import { callServer } from './http-client.js';
import { reportRuns } from './run-summary.js';

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
    .action(
      async (
        runId: string,
        opts: { server?: string; apiTokenFile?: string; output: string },
        cmd: Command,
      ) => {
        const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
        let runs: RunRecord[];
        if (opts.server) {
          const path = `/api/v1/runs/${encodeURIComponent(runId)}/replay`;
          const { data } = await callServer<{ run: RunRecord }>(opts.server, 'POST', path, {
            tokenFile: opts.apiTokenFile,
          });
          runs = [data.run];
        } else {
          runs = await runToCompletion(cmd, async (engine) => {
            const { runId: id } = await engine.replay(runId);
            return (r) => r.runId === id;
          });
        }
        reportRuns(runs, format, cmd);
      },
    );
}
