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

export interface RunOptions {
  server?: string;
  apiTokenFile?: string;
  output: string;
  keep?: boolean;
  dryRun?: boolean;
}

export async function runAction(task: string, opts: RunOptions, cmd: Command): Promise<void> {
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
