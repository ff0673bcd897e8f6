import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import type { EventFieldValue } from '../store/types.js';
import { parseOutputFormat } from './context.js';
import { runToCompletion } from './engine-context.js';
import { CliError, EXIT } from './exit.js';
import { checkEventInput } from './event-input.js';
import { callServer, checkedServerUrl } from './http-client.js';
import { reportRuns } from './run-summary.js';

export async function emitAction(type: string, name: string, opts: EmitOptions, cmd: Command): Promise<void> {
  const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
  const fields = parseFields(opts.field);
  const input = { type, name, object: opts.object ?? null, fields };
  checkEventInput(input);
  if (opts.server) {
    const server = checkedServerUrl(opts.server, '--server');
    const { data } = await callServer<{ id: string }>(server, 'POST', '/api/v1/events', {
      body: input,
      tokenFile: opts.apiTokenFile,
    });
    process.stdout.write(
      format === 'json' ? JSON.stringify(data) + '\n' : `event ${escapeControl(data.id)} accepted\n`,
    );
    return;
  }
  const runs = await runToCompletion(cmd, async (engine) => {
    const event = await engine.submitEvent(input);
    return (r) => r.trigger.event === event.id;
  });
  reportRuns(runs, format, cmd);
}

export interface EmitOptions {
  object?: string;
  field: string[];
  server?: string;
  apiTokenFile?: string;
  output: string;
}

function parseFields(pairs: string[]): Record<string, EventFieldValue> {
  const fields: Record<string, EventFieldValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--field takes key=value (got ${JSON.stringify(pair)})`, EXIT.usage);
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z0-9_]+$/.test(key))
      throw new CliError(`--field key ${JSON.stringify(key)} must be letters, digits and _`, EXIT.usage);
    fields[key] = pair.slice(eq + 1);
  }
  return fields;
}
