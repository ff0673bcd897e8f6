import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import type { RunRecord } from '../store/types.js';
import { stdoutPalette } from './context.js';
import { EXIT } from './exit.js';
import type { Palette } from './output.js';
import { table } from './output.js';

/** The runs a command started, as an aligned table (or nothing when there were none). */
export function renderRuns(runs: readonly RunRecord[], c: Palette): string {
  if (runs.length === 0) return c.dim('no runs');
  const colour = (status: string) =>
    status === 'succeeded' ? c.green(status) : status === 'failed' ? c.red(status) : c.yellow(status);
  return table(
    // Task and target names and errors come from committers, event senders and programs' stderr.
    runs.map((r) => [
      escapeControl(r.runId),
      escapeControl(r.task),
      escapeControl(r.target.name ?? '-'),
      colour(r.status),
      r.durationMs === null ? '-' : `${r.durationMs}ms`,
      escapeControl(r.error ?? ''),
    ]),
    ['RUN', 'TASK', 'TARGET', 'STATUS', 'DURATION', 'ERROR'].map((h) => c.bold(h)),
  );
}

/** Prints the runs (table or JSON) and sets the exit code: 1 when any failed or was interrupted. */
export function reportRuns(runs: readonly RunRecord[], format: 'text' | 'json', cmd: Command): void {
  if (format === 'json') process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
  else process.stdout.write(renderRuns(runs, stdoutPalette(cmd)) + '\n');
  process.exitCode = runs.some((r) => r.status === 'failed' || r.status === 'interrupted')
    ? EXIT.error
    : EXIT.ok;
}
