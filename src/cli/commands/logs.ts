import type { Command } from 'commander';
import type { LogsOptions } from '../logs.js';
import { addServerOptions } from '../server-options.js';
import { RUN_STATUSES } from '../../store/types.js';

/** Task-log files hold finished runs only; a server also lists queued, delayed and running ones. */
export const STATUSES: readonly string[] = RUN_STATUSES;
/** The API's page limit: more needs several pages, which a terminal reader never wants. */
export const MAX_LIMIT = 500;

export function registerLogs(program: Command): void {
  const logs = program
    .command('logs')
    .description('read the task logs: every run with its id, time, duration, outcome, trigger and target')
    .option('--task <name>', 'only this task')
    .option('--status <status>', `only runs with this outcome: ${STATUSES.join(', ')}`)
    .option('--since <duration>', 'only runs started within this long (30m, 24h, 7d)')
    .option('--limit <n>', `only the last N runs (1-${MAX_LIMIT})`)
    .option('--run <id>', "one run in detail: trigger, attempts, a command's argv, exit code and output")
    .option('-f, --follow', 'keep printing runs as they finish (needs --server or TASKOPS_SERVER)')
    .option('-o, --output <format>', 'table, json (an array; one object a line with --follow) or csv')
    .option('--format <format>', 'the same as --output (kept for older scripts)');
  addServerOptions(logs, 'read the runs of a running `taskops serve` instead of <data-dir>/logs');
  logs
    .addHelpText(
      'after',
      `
Reads <data-dir>/logs/runs-YYYY-MM-DD.jsonl, oldest first, or the runs of a running engine with --server.
The RUN column is the run id (the \${RUN_ID} of templates); durations are milliseconds (numbers in json
and csv).

Examples:
  $ taskops logs --since 24h
  $ taskops logs --task power-off-gpu-vms --status failed --output json
  $ taskops logs --run m-20260301T180000Z-1a2b
  $ taskops logs --follow --server http://127.0.0.1:8080
  $ taskops logs --output csv > runs.csv`,
    )
    .action(async (opts: LogsOptions, cmd: Command) => {
      const { logsAction } = await import('../logs.js');
      await logsAction(opts, cmd);
    });
}
