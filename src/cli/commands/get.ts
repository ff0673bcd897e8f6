import type { Command } from 'commander';
import { addServerOptions, type ServerOptions } from '../server-options.js';
import { KIND_CHOICES } from './option-values.js';

export function registerGet(program: Command): void {
  const get = program
    .command('get')
    .description('list live objects of one kind: tasks, schedules, triggers, webhooks or tags')
    .argument('<kind>', KIND_CHOICES.join(', '))
    .argument('[name]', 'only this object')
    .option('-o, --output <format>', 'text or json', 'text');
  addServerOptions(get, 'list the objects of a running `taskops serve` instead of the data dir');
  get
    .addHelpText(
      'after',
      `
Schedules show their next firing in their own zone; taskops describe KIND/NAME shows one object's wiring.

Examples:
  $ taskops get tasks
  $ taskops get schedules --server http://127.0.0.1:8080
  $ taskops get tags gpu-vms --output json`,
    )
    .action(
      async (
        kindWord: string,
        name: string | undefined,
        opts: { output: string } & ServerOptions,
        cmd: Command,
      ) => {
        const { getAction } = await import('../get.js');
        await getAction(kindWord, name, opts, cmd);
      },
    );
}
