import type { Command } from 'commander';
import type { DescribeOptions } from '../describe.js';
import { addServerOptions } from '../server-options.js';
import { KIND_CHOICES } from './option-values.js';

export function registerDescribe(program: Command): void {
  const describe = program
    .command('describe')
    .description(
      'one object: its wiring in both directions, next firings in its zone, last runs, source file:line',
    )
    .argument(
      '<kind/name>',
      `${KIND_CHOICES.join(', ')} (singular or plural) and a name, e.g. task/power-off-gpu-vms`,
    )
    .argument('[path]', 'manifests to find the source file:line in (the live state keeps only the revision)')
    .option('-o, --output <format>', 'text or json', 'text');
  addServerOptions(describe, 'describe an object of a running `taskops serve` instead of the data dir');
  describe
    .addHelpText(
      'after',
      `
Examples:
  $ taskops describe task/power-off-gpu-vms
  $ taskops describe schedule/friday-6pm examples/gpu-vms
  $ taskops describe tag/gpu-vms --server http://127.0.0.1:8080 --output json`,
    )
    .action(async (ref: string, path: string | undefined, opts: DescribeOptions, cmd: Command) => {
      const { describeAction } = await import('../describe.js');
      await describeAction(ref, path, opts, cmd);
    });
}
