import type { Command } from 'commander';
import type { RunRecord } from '../store/types.js';
import { parseOutputFormat } from './context.js';
import { runToCompletion } from './engine-context.js';
import { callServer } from './http-client.js';
import { reportRuns } from './run-summary.js';

export interface ReplayOptions {
  server?: string;
  apiTokenFile?: string;
  output: string;
}

export async function replayAction(runId: string, opts: ReplayOptions, cmd: Command): Promise<void> {
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
}
