import type { TaskLogLine } from '../engine/index.js';
import { escapeControl, escapeControlKeepingLines } from '../manifest/index.js';
import type { RunRecord } from '../store/types.js';
import { table, type Palette } from './output.js';

/** A run as `logs` shows it: a task-log line from the files, or a run record from a server (maybe unfinished). */
export type LogRun = TaskLogLine | RunRecord;

const HEADER = ['RUN', 'STARTED', 'TASK', 'STATUS', 'DURATION', 'TRIGGER', 'TARGET', 'ATTEMPTS', 'ERROR'];

/** The cells of one run; names and errors come from committers, event senders and programs' stderr: escaped. */
function cells(r: LogRun): string[] {
  return [
    r.runId,
    r.startedAt ?? '-',
    r.task,
    r.status,
    r.durationMs === null ? '-' : `${r.durationMs}ms`,
    r.trigger.name ? `${r.trigger.kind}:${r.trigger.name}` : r.trigger.kind,
    r.target.name ? `${r.target.objectType}/${r.target.name}` : r.target.objectType,
    String(r.attempts),
    r.error ?? '',
  ].map(escapeControl);
}

export const colourStatus = (c: Palette, status: string) =>
  status === 'succeeded' ? c.green(status) : status === 'failed' ? c.red(status) : c.yellow(status);

export function renderLogTable(runs: readonly LogRun[], c: Palette): string {
  if (runs.length === 0) return 'no runs\n';
  const rows = runs.map((r) => {
    const row = cells(r);
    row[3] = colourStatus(c, row[3]!);
    return row;
  });
  return (
    table(
      rows,
      HEADER.map((h) => c.bold(h)),
    ) + '\n'
  );
}

/** One line per run for --follow, where rows arrive one by one and cannot be aligned. */
export function renderLogLine(r: LogRun, c: Palette): string {
  const row = cells(r);
  row[3] = colourStatus(c, row[3]!);
  return row.filter((cell, i) => i !== HEADER.length - 1 || cell !== '').join('  ') + '\n';
}

/** CSV with the duration in milliseconds as a plain number, so a spreadsheet can sum it. */
export function toCsv(runs: readonly LogRun[]): string {
  const header = [...HEADER.slice(0, 4), 'DURATION_MS', ...HEADER.slice(5)];
  const rows = runs.map((r) => {
    const row = cells(r);
    row[4] = r.durationMs === null ? '' : String(r.durationMs);
    return row;
  });
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** RFC 4180 quoting; a leading = + - @ is neutralised so a spreadsheet never evaluates a task name. */
function csvCell(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

interface CommandOutput {
  argv?: unknown;
  exitCode?: unknown;
  signal?: unknown;
  stdout?: unknown;
  stderr?: unknown;
}

/** `logs --run ID`: every field of the run, then what its driver reported (a command's argv and output). */
export function renderRunDetail(r: LogRun, c: Palette): string {
  const e = escapeControl;
  const trigger = [
    r.trigger.kind,
    r.trigger.name ? ` ${e(r.trigger.name)}` : '',
    r.trigger.event ? ` (event ${e(r.trigger.event)})` : '',
    r.trigger.scheduledFor ? ` for ${e(r.trigger.scheduledFor)}` : '',
    r.trigger.catchUp ? ' (catch-up)' : '',
  ].join('');
  const lines = [
    `${c.bold('Run')}       ${e(r.runId)}`,
    `Task      ${e(r.task)}`,
    `Status    ${colourStatus(c, r.status)}`,
    `Trigger   ${trigger}`,
    `Target    ${r.target.name ? `${e(r.target.objectType)}/${e(r.target.name)}` : e(r.target.objectType)}`,
    `Started   ${r.startedAt ?? '-'}`,
    `Finished  ${r.finishedAt ?? '-'}`,
    `Duration  ${r.durationMs === null ? '-' : `${r.durationMs}ms`}`,
    `Attempts  ${r.attempts}`,
  ];
  if (r.error) lines.push(`Error     ${c.red(e(r.error))}`);
  const details = (r.details ?? null) as CommandOutput | null;
  if (details && typeof details === 'object') {
    if (Array.isArray(details.argv))
      lines.push(`Argv      ${details.argv.map((a) => e(JSON.stringify(a))).join(' ')}`);
    if (details.exitCode !== undefined && details.exitCode !== null)
      lines.push(`Exit code ${String(details.exitCode)}`);
    if (typeof details.signal === 'string') lines.push(`Signal    ${e(details.signal)}`);
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = details[stream];
      if (typeof text !== 'string') continue;
      lines.push('', c.bold(`${stream}:`));
      // A program's output keeps its lines but never drives the terminal.
      lines.push(
        text === '' ? c.dim('  (empty)') : indent(escapeControlKeepingLines(text.replace(/\n$/, ''))),
      );
    }
    const rest = Object.fromEntries(
      Object.entries(details).filter(
        ([k]) => !['argv', 'exitCode', 'signal', 'stdout', 'stderr'].includes(k),
      ),
    );
    if (Object.keys(rest).length > 0)
      lines.push('', c.bold('details:'), indent(escapeControlKeepingLines(JSON.stringify(rest, null, 2))));
  }
  return lines.join('\n') + '\n';
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
