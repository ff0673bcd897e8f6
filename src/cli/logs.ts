import type { Command } from 'commander';
import { parseDuration } from '../config/index.js';
import { readTaskLogs, type TaskLogLine } from '../engine/index.js';
import { escapeControl } from '../manifest/index.js';
import { globalOptions, stdoutPalette } from './context.js';
import { CliError, EXIT } from './exit.js';
import { table } from './output.js';

const FORMATS = ['table', 'json', 'csv'] as const;
const STATUSES = ['succeeded', 'failed', 'skipped', 'interrupted', 'cancelled'];

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('read the task logs: every run with time, duration, outcome, trigger and target')
    .option('--task <name>', 'only this task')
    .option('--status <status>', `only runs with this outcome: ${STATUSES.join(', ')}`)
    .option('--since <duration>', 'only runs started within this long (30m, 24h, 7d)')
    .option('--format <format>', 'table, json (an array) or csv', 'table')
    .addHelpText(
      'after',
      `
Reads <data-dir>/logs/runs-YYYY-MM-DD.jsonl, oldest first.

Examples:
  $ taskops logs --since 24h
  $ taskops logs --task power-off-gpu-vms --status failed --format json
  $ taskops logs --format csv > runs.csv`,
    )
    .action((opts: { task?: string; status?: string; since?: string; format: string }, cmd: Command) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new CliError(`--format must be one of ${FORMATS.join(', ')} (got ${opts.format})`, EXIT.usage);
      }
      if (opts.status && !STATUSES.includes(opts.status)) {
        throw new CliError(`--status must be one of ${STATUSES.join(', ')} (got ${opts.status})`, EXIT.usage);
      }
      let since: Date | undefined;
      if (opts.since) {
        const ms = parseDuration(opts.since);
        if (ms === undefined)
          throw new CliError(`--since takes a duration like 30m, 24h or 7d (got ${opts.since})`, EXIT.usage);
        since = new Date(Date.now() - ms);
      }
      const lines = readTaskLogs(globalOptions(cmd).dataDir, since ? { since } : {}).filter(
        (l) => (!opts.task || l.task === opts.task) && (!opts.status || l.status === opts.status),
      );
      process.stdout.write(render(lines, opts.format as (typeof FORMATS)[number], cmd));
    });
}

function render(lines: TaskLogLine[], format: (typeof FORMATS)[number], cmd: Command): string {
  if (format === 'json') return JSON.stringify(lines, null, 2) + '\n';
  // Names and errors come from committers, event senders and programs' stderr: escaped for table and csv.
  const rows = lines.map((l) =>
    [
      l.startedAt,
      l.task,
      l.status,
      `${l.durationMs}ms`,
      l.trigger.name ? `${l.trigger.kind}:${l.trigger.name}` : l.trigger.kind,
      l.target.name ? `${l.target.objectType}/${l.target.name}` : l.target.objectType,
      String(l.attempts),
      l.error ?? '',
    ].map(escapeControl),
  );
  const header = ['STARTED', 'TASK', 'STATUS', 'DURATION', 'TRIGGER', 'TARGET', 'ATTEMPTS', 'ERROR'];
  if (format === 'csv') return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  if (lines.length === 0) return 'no runs\n';
  const c = stdoutPalette(cmd);
  const coloured = rows.map((r) => {
    const status = r[2]!;
    r[2] = status === 'succeeded' ? c.green(status) : status === 'failed' ? c.red(status) : c.yellow(status);
    return r;
  });
  return (
    table(
      coloured,
      header.map((h) => c.bold(h)),
    ) + '\n'
  );
}

/** RFC 4180 quoting; a leading = + - @ is neutralised so a spreadsheet never evaluates a task name. */
function csvCell(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
