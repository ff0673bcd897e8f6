import type { Command } from 'commander';
import { escapeControl } from '../manifest/index.js';
import type { EventFieldValue } from '../store/types.js';
import { parseOutputFormat } from './context.js';
import { runToCompletion } from './engine-context.js';
import { CliError, EXIT } from './exit.js';
import { checkEventInput } from './event-input.js';
import { callServer, checkedServerUrl } from './http-client.js';
import { reportRuns } from './run-summary.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerEmit(program: Command): void {
  program
    .command('emit')
    .description('deliver an event: to a running server, or process it here and wait for the runs it starts')
    .argument('<type>', 'event type: users, syncs, vms, alarms, system, ...')
    .argument('<name>', 'event name: login, logout, error, power-on, ...')
    .option('--object <name>', 'the object the event is about')
    .option('--field <key=value>', 'an event field (repeatable)', collect, [])
    .option('--server <url>', 'POST to a running `taskops serve` (returns once the event is stored)')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Event data is passed to drivers as separate arguments or JSON values, never through a shell.
Without --server, exit 1 if any run the event started failed.

Examples:
  $ taskops emit users login --object JThompson
  $ taskops emit syncs error --object nightly-dr --field severity=error
  $ taskops emit users logout --object JThompson --server http://127.0.0.1:8080`,
    )
    .action(async (type: string, name: string, opts: EmitOptions, cmd: Command) => {
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
    });
}

interface EmitOptions {
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
