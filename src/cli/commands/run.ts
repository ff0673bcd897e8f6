import type { Command } from 'commander';
import type { RunOptions } from '../run.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one task now (a manual trigger) and wait for it')
    .argument('<task>', 'the Task name')
    .option('--keep', 'a test run of a deleteAfterRun task: run it, but do not retire it')
    .option(
      '--dry-run',
      'show what each target would get (argv, or the request with its URL masked) and run nothing',
    )
    .option('--server <url>', 'ask a running `taskops serve` instead of running in this process')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Without --server the task runs in this process against the data dir, with the engine config's drivers.
A task with deleteAfterRun is retired by its first successful run, a manual one included; --keep leaves
it in place. --dry-run reads the live state only (the data dir read-only, or --server) and resolves the
templates as the driver would, without reading any secret. Exit 0 when every run succeeded, 1 otherwise.

Examples:
  $ taskops run power-off-gpu-vms
  $ taskops run one-time-migration --keep
  $ taskops run power-off-gpu-vms --dry-run
  $ taskops run slack-sync-error --server http://127.0.0.1:8080`,
    )
    .action(async (task: string, opts: RunOptions, cmd: Command) => {
      const { runAction } = await import('../run.js');
      await runAction(task, opts, cmd);
    });
}
