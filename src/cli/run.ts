import type { Command } from 'commander';
import type { RunRecord } from '../store/types.js';
import { storeUrl } from './store.js';
import { engineConfig, globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { dryRun, renderDryRun } from './dry-run.js';
import { liveView } from './live-objects.js';
import { runToCompletion } from './engine-context.js';
import { CliError, EXIT } from './exit.js';
import { callServer, checkedServerUrl } from './http-client.js';
import { notFound } from './names.js';
import { reportRuns } from './run-summary.js';

interface RunOptions {
  server?: string;
  apiTokenFile?: string;
  output: string;
  keep?: boolean;
  dryRun?: boolean;
}

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
      const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
      if (opts.dryRun) return showDryRun(task, opts, format, cmd);
      const runs = opts.server
        ? await runOnServer(checkedServerUrl(opts.server, '--server'), task, opts)
        : await runToCompletion(cmd, async (engine) => {
            const state = engine.liveState;
            if (!state.tasks.has(task) && !state.retired.has(task))
              throw notFound('Task', task, [...state.tasks.keys()], 'in the live state');
            const ids = new Set((await engine.runTask(task, { keep: opts.keep })).map((r) => r.runId));
            return (r) => ids.has(r.runId);
          });
      reportRuns(runs, format, cmd);
    });
}

async function showDryRun(
  task: string,
  opts: RunOptions,
  format: 'text' | 'json',
  cmd: Command,
): Promise<void> {
  const server = opts.server === undefined ? undefined : checkedServerUrl(opts.server, '--server');
  const view = await liveView(globalOptions(cmd).dataDir, server, opts.apiTokenFile, storeUrl(cmd));
  try {
    const calls = dryRun(task, view.objects, engineConfig(cmd), view.where);
    process.stdout.write(
      format === 'json'
        ? JSON.stringify(calls, null, 2) + '\n'
        : renderDryRun(task, calls, stdoutPalette(cmd)),
    );
    process.exitCode = calls.some((c) => c.problem) ? EXIT.error : EXIT.ok;
  } finally {
    await view.close();
  }
}

async function runOnServer(server: string, task: string, opts: RunOptions): Promise<RunRecord[]> {
  const path = `/api/v1/tasks/${encodeURIComponent(task)}/run${opts.keep ? '?keep=1' : ''}`;
  try {
    return (await callServer<{ runs: RunRecord[] }>(server, 'POST', path, { tokenFile: opts.apiTokenFile }))
      .data.runs;
  } catch (err) {
    if (!(err instanceof CliError) || !err.message.includes(' answered 404')) throw err;
    // The server knows the names: the same "did you mean" as in-process.
    const { data } = await callServer<{ tasks: Array<{ name: string; retired: boolean }> }>(
      server,
      'GET',
      '/api/v1/tasks',
      { tokenFile: opts.apiTokenFile },
    );
    if (data.tasks.some((t) => t.name === task)) throw err;
    throw notFound(
      'Task',
      task,
      data.tasks.filter((t) => !t.retired).map((t) => t.name),
      `on ${server}`,
    );
  }
}
