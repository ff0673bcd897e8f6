import type { Command } from 'commander';
import { previewFirings } from '../engine/index.js';
import { escapeControl, formatProblem, loadDesiredState, type ScheduleSpec } from '../manifest/index.js';
import { openStore } from '../store/index.js';
import { engineConfig, globalOptions, parseOutputFormat } from './context.js';
import { CliError, EXIT } from './exit.js';
import { table } from './output.js';

/** The seed's engine previews up to this many firings. */
const MAX_COUNT = 1440;

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('the next firings of a schedule, in its time zone')
    .argument('<schedule>', 'the Schedule name')
    .argument('[path]', 'manifests to read it from (default: the live state in the data dir)')
    .option('-n, --count <n>', `how many firings (1-${MAX_COUNT})`, '10')
    .option('--after <date-time>', 'start after this instant instead of now (ISO 8601)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Examples:
  $ taskops preview friday-6pm examples/gpu-vms
  $ taskops preview friday-6pm --count 5 --after 2026-03-01T00:00:00Z
  $ taskops preview nightly --output json`,
    )
    .action(async (name: string, path: string | undefined, opts: PreviewOptions, cmd: Command) => {
      const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
        throw new CliError(
          `--count must be a whole number from 1 to ${MAX_COUNT} (got ${opts.count})`,
          EXIT.usage,
        );
      }
      const after = opts.after ? new Date(opts.after) : new Date();
      if (Number.isNaN(after.getTime()))
        throw new CliError(`--after is not a date-time: ${opts.after}`, EXIT.usage);
      const defaultZone = engineConfig(cmd).config.defaultTimezone;
      const spec = path
        ? await fromManifests(path, name, defaultZone)
        : await fromStore(globalOptions(cmd).dataDir, name);
      const zone = spec.timezone ?? defaultZone;
      const firings = previewFirings(spec, { after, count, defaultZone });
      if (format === 'json') {
        process.stdout.write(
          JSON.stringify(
            { schedule: name, zone, firings: firings.map((f) => ({ local: f.local, utc: f.utc })) },
            null,
            2,
          ) + '\n',
        );
        return;
      }
      const lines = [
        `Schedule/${escapeControl(name)} (${escapeControl(zone)}): next ${firings.length} firing${firings.length === 1 ? '' : 's'}`,
      ];
      if (firings.length === 0)
        lines.push('  none: the schedule is disabled, ended, or a one-time date already passed');
      else lines.push(table(firings.map((f) => ['  ' + f.local, f.utc])));
      process.stdout.write(lines.join('\n') + '\n');
    });
}

interface PreviewOptions {
  count: string;
  after?: string;
  output: string;
}

async function fromManifests(path: string, name: string, defaultZone: string): Promise<ScheduleSpec> {
  const loaded = await loadDesiredState(path, { revision: 'preview', defaultZone });
  if (!loaded.state)
    throw new CliError(`the manifests are invalid:\n  ${loaded.problems.map(formatProblem).join('\n  ')}`);
  const found = loaded.state.manifests.find((m) => m.kind === 'Schedule' && m.metadata.name === name);
  if (!found) throw new CliError(`Schedule/${name} is not defined below ${path}`);
  return found.spec as ScheduleSpec;
}

async function fromStore(dataDir: string, name: string): Promise<ScheduleSpec> {
  const store = await openStore(dataDir);
  try {
    const live = await store.getObject('Schedule', name);
    if (!live)
      throw new CliError(
        `Schedule/${name} is not in the live state of ${dataDir} (give a manifests path to preview from files)`,
      );
    return live.spec;
  } finally {
    await store.close();
  }
}
