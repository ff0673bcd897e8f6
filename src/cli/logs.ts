import type { Command } from 'commander';
import { parseDuration } from '../config/index.js';
import { readTaskLogs } from '../engine/index.js';
import type { RunRecord } from '../store/types.js';
import { MAX_LIMIT, STATUSES } from './commands/logs.js';
import { globalOptions, stdoutPalette } from './context.js';
import { requireDataDir } from './data-dir.js';
import { CliError, EXIT } from './exit.js';
import { callServer, serverFrom } from './http-client.js';
import { followRuns } from './follow.js';
import { renderLogTable, renderRunDetail, toCsv, type LogRun } from './log-views.js';
import type { ServerOptions } from './server-options.js';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

export interface LogsOptions extends ServerOptions {
  task?: string;
  status?: string;
  since?: string;
  limit?: string;
  run?: string;
  follow?: boolean;
  output?: string;
  format?: string;
}

export async function logsAction(opts: LogsOptions, cmd: Command): Promise<void> {
  const format = outputFormat(opts);
  if (opts.status && !STATUSES.includes(opts.status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(', ')} (got ${opts.status})`, EXIT.usage);
  }
  const limit = parseLimit(opts.limit);
  const since = parseSince(opts.since);
  const server = serverFrom(opts.server);
  if (opts.follow) {
    if (!server) {
      throw new CliError(
        '--follow reads a running engine: add --server URL (or set TASKOPS_SERVER); ' +
          'the files in <data-dir>/logs are only read once',
        EXIT.usage,
      );
    }
    await followRuns(
      server,
      { task: opts.task, status: opts.status, tokenFile: opts.apiTokenFile },
      format,
      stdoutPalette(cmd),
    );
    return;
  }
  let runs = server
    ? await serverRuns(server, opts, since, limit)
    : localRuns(globalOptions(cmd).dataDir, opts, since);
  if (limit !== undefined && opts.run === undefined) runs = runs.slice(-limit);
  if (opts.run !== undefined) {
    const run = runs.find((r) => r.runId === opts.run);
    if (!run) throw new CliError(noSuchRun(opts.run, runs, server));
    process.stdout.write(
      format === 'json' ? JSON.stringify(run, null, 2) + '\n' : renderRunDetail(run, stdoutPalette(cmd)),
    );
    return;
  }
  if (format === 'json') process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
  else if (format === 'csv') process.stdout.write(toCsv(runs));
  else process.stdout.write(renderLogTable(runs, stdoutPalette(cmd)));
}

function outputFormat(opts: LogsOptions): Format {
  if (opts.output !== undefined && opts.format !== undefined && opts.output !== opts.format) {
    throw new CliError(
      `--output ${opts.output} and --format ${opts.format} disagree: give one of them`,
      EXIT.usage,
    );
  }
  const value = opts.output ?? opts.format ?? 'table';
  const flag = opts.output !== undefined ? '--output' : '--format';
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new CliError(`${flag} must be one of ${FORMATS.join(', ')} (got ${value})`, EXIT.usage);
  }
  return value as Format;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_LIMIT) {
    throw new CliError(`--limit must be a whole number from 1 to ${MAX_LIMIT} (got ${value})`, EXIT.usage);
  }
  return n;
}

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new CliError(`--since takes a duration like 30m, 24h or 7d (got ${value})`, EXIT.usage);
  return new Date(Date.now() - ms);
}

function localRuns(dataDir: string, opts: LogsOptions, since: Date | undefined): LogRun[] {
  requireDataDir(dataDir);
  return readTaskLogs(dataDir, since ? { since } : {}).filter(
    (l) => (!opts.task || l.task === opts.task) && (!opts.status || l.status === opts.status),
  );
}

async function serverRuns(
  server: string,
  opts: LogsOptions,
  since: Date | undefined,
  limit: number | undefined,
): Promise<LogRun[]> {
  const query = new URLSearchParams();
  if (opts.task) query.set('task', opts.task);
  if (opts.status) query.set('status', opts.status);
  if (since) query.set('since', since.toISOString());
  // The API lists newest first; a run looked up by id may be older than any page we would ask for.
  query.set('limit', String(opts.run !== undefined ? MAX_LIMIT : (limit ?? MAX_LIMIT)));
  const { data } = await callServer<{ runs: RunRecord[] }>(server, 'GET', `/api/v1/runs?${query}`, {
    tokenFile: opts.apiTokenFile,
  });
  return [...data.runs].sort(byStart);
}

const startOf = (r: LogRun) => r.startedAt ?? ('queuedAt' in r ? r.queuedAt : '');

/** Oldest first; the members of one tag start in the same millisecond, so then by task and target name. */
const byStart = (a: LogRun, b: LogRun) =>
  startOf(a).localeCompare(startOf(b)) ||
  a.task.localeCompare(b.task) ||
  (a.target.name ?? '').localeCompare(b.target.name ?? '') ||
  a.runId.localeCompare(b.runId);

function noSuchRun(id: string, runs: LogRun[], server: string | undefined): string {
  const where = server ? `the runs of ${server}` : 'the task logs';
  const prefix = runs.filter((r) => r.runId.startsWith(id)).map((r) => r.runId);
  const hint = prefix.length > 0 ? ` (did you mean ${prefix.slice(0, 3).join(', ')}?)` : '';
  return `no run ${JSON.stringify(id)} in ${where}${hint}: copy the id from the RUN column of taskops logs`;
}
