import { createRequire } from 'node:module';
import { pino, destination, type Logger } from 'pino';
import type { RunRecord } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';
import { CliError, EXIT } from './exit.js';

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * serve's logger on stderr: one JSON object a line for collectors, or pino-pretty's coloured lines for a
 * person at a terminal (`auto`: pretty exactly when stderr is a TTY). Either way each finished line passes
 * through redactCredentials, so no message, field or error (git's stderr quotes remotes) shows a credential.
 */
export function serveLogger(level: string, format: string, colour: boolean): Logger {
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got ${format})`, EXIT.usage);
  }
  const pretty = format === 'pretty' || (format === 'auto' && Boolean(process.stderr.isTTY));
  const options = {
    level,
    redact: ['req.headers.authorization'],
    hooks: { streamWrite: redactCredentials },
  };
  if (!pretty) return pino(options, destination(2));
  // Loaded only for a terminal: a JSON-logging serve never pays for it.
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    prettyStream({
      destination: 2,
      sync: true,
      colorize: colour,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    }),
  );
}

/** A run's outcome at the level it deserves: a failure is a warning with its error, the rest is info. */
export function logRunFinished(log: Logger, run: RunRecord): void {
  const fields = {
    runId: run.runId,
    task: run.task,
    status: run.status,
    target: run.target.name,
    durationMs: run.durationMs,
    attempts: run.attempts,
  };
  if (run.status === 'failed' || run.status === 'interrupted') {
    log.warn(
      { ...fields, error: run.error },
      `run ${run.status}: ${run.task}: ${run.error ?? 'no error text'}`,
    );
  } else log.info(fields, 'run finished');
}
