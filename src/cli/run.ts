import type { Command } from 'commander';
import type { RunRecord } from '../store/types.js';
import { parseOutputFormat } from './context.js';
import { runToCompletion } from './engine-context.js';
import { callServer } from './http-client.js';
import { reportRuns } from './run-summary.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one task now (a manual trigger) and wait for it')
    .argument('<task>', 'the Task name')
    .option('--server <url>', 'ask a running `taskops serve` instead of running in this process')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Without --server the task runs in this process against the data dir, with the engine config's drivers.
Exit 0 when every run succeeded, 1 otherwise.

Examples:
  $ taskops run power-off-gpu-vms
  $ taskops run slack-sync-error --server http://127.0.0.1:8080`,
    )
    .action(
      async (
        task: string,
        opts: { server?: string; apiTokenFile?: string; output: string },
        cmd: Command,
      ) => {
        const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
        let runs: RunRecord[];
        if (opts.server) {
          const path = `/api/v1/tasks/${encodeURIComponent(task)}/run`;
          runs = (
            await callServer<{ runs: RunRecord[] }>(opts.server, 'POST', path, {
              tokenFile: opts.apiTokenFile,
            })
          ).data.runs;
        } else {
          runs = await runToCompletion(cmd, async (engine) => {
            const ids = new Set((await engine.runTask(task)).map((r) => r.runId));
            return (r) => ids.has(r.runId);
          });
        }
        reportRuns(runs, format, cmd);
      },
    );
}
