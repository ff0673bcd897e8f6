import type { Command } from 'commander';
import type { PreviewOptions } from '../preview.js';
import { addServerOptions } from '../server-options.js';

/** The seed's engine previews up to this many firings. */
export const MAX_COUNT = 1440;

export function registerPreview(program: Command): void {
  const preview = program
    .command('preview')
    .description('the next firings of a schedule, in its time zone')
    .argument('<schedule>', 'the Schedule name')
    .argument('[path]', 'manifests to read it from (default: the live state in the data dir)')
    .option('-n, --count <n>', `how many firings (1-${MAX_COUNT})`, '10')
    .option(
      '--after <date-time>',
      "start after this time instead of now: ISO 8601 with an offset (2026-03-01T00:00:00Z), or a wall time in the schedule's zone (2026-03-01T09:00)",
    )
    .option('-o, --output <format>', 'text or json', 'text');
  addServerOptions(preview, 'read the schedule from a running `taskops serve`');
  preview
    .addHelpText(
      'after',
      `
Examples:
  $ taskops preview friday-6pm examples/gpu-vms
  $ taskops preview friday-6pm --count 5 --after 2026-03-01T00:00:00Z
  $ taskops preview friday-6pm --after "2026-03-06 17:00"
  $ taskops preview nightly --output json`,
    )
    .action(async (name: string, path: string | undefined, opts: PreviewOptions, cmd: Command) => {
      const { previewAction } = await import('../preview.js');
      await previewAction(name, path, opts, cmd);
    });
}
