import type { Command } from 'commander';
import type { RunRecord } from '../store/types.js';
import { EngineError } from '../engine/index.js';
import { parseOutputFormat, stdoutPalette } from './context.js';
import { oneShotEngine } from './engine-context.js';
import { CliError, EXIT } from './exit.js';
import { callServer } from './http-client.js';
import { renderRuns } from './run-summary.js';

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
          const ctx = await oneShotEngine(cmd);
          try {
            const started = await ctx.engine.runTask(task);
            await ctx.engine.whenIdle();
            const ids = new Set(started.map((r) => r.runId));
            runs = ctx.finished.filter((r) => ids.has(r.runId));
          } catch (err) {
            if (err instanceof EngineError) throw new CliError(err.message);
            throw err;
          } finally {
            await ctx.close();
          }
        }
        if (format === 'json') process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
        else process.stdout.write(renderRuns(runs, stdoutPalette(cmd)) + '\n');
        process.exitCode = runs.some((r) => r.status === 'failed' || r.status === 'interrupted')
          ? EXIT.error
          : EXIT.ok;
      },
    );
}
