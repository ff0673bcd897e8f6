import type { Command } from 'commander';
import type { EmitOptions } from '../emit.js';

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
      const { emitAction } = await import('../emit.js');
      await emitAction(type, name, opts, cmd);
    });
}
