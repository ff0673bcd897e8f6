import type { Command } from 'commander';
import { previewFirings } from '../engine/index.js';
import { escapeControl, formatProblem, loadDesiredState, type ScheduleSpec } from '../manifest/index.js';
import { globalOptions, engineConfig, parseOutputFormat } from './context.js';
import { openReadOnlyStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { CliError, EXIT } from './exit.js';
import { callServer, serverFrom } from './http-client.js';
import { notFound } from './names.js';
import { table } from './output.js';
import { parseInstant } from './instant.js';
import { MAX_COUNT } from './commands/preview.js';
import type { ServerOptions } from './server-options.js';

export async function previewAction(
  name: string,
  path: string | undefined,
  opts: PreviewOptions,
  cmd: Command,
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
  const count = Number(opts.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new CliError(
      `--count must be a whole number from 1 to ${MAX_COUNT} (got ${opts.count})`,
      EXIT.usage,
    );
  }
  const defaultZone = engineConfig(cmd).config.defaultTimezone;
  const server = serverFrom(opts.server);
  const spec = path
    ? await fromManifests(path, name, defaultZone)
    : server
      ? await fromServer(server, name, opts.apiTokenFile)
      : await fromStore(globalOptions(cmd).dataDir, name, storeUrl(cmd));
  const zone = spec.timezone ?? defaultZone;
  const after = opts.after === undefined ? new Date() : parseInstant(opts.after, zone, '--after');
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
}

export interface PreviewOptions extends ServerOptions {
  count: string;
  after?: string;
  output: string;
}

async function fromManifests(path: string, name: string, defaultZone: string): Promise<ScheduleSpec> {
  const loaded = await loadDesiredState(path, { revision: 'preview', defaultZone });
  if (!loaded.state)
    throw new CliError(`the manifests are invalid:\n  ${loaded.problems.map(formatProblem).join('\n  ')}`);
  const schedules = loaded.state.manifests.filter((m) => m.kind === 'Schedule');
  const found = schedules.find((m) => m.metadata.name === name);
  if (!found)
    throw notFound(
      'Schedule',
      name,
      schedules.map((m) => m.metadata.name),
      `defined below ${path}`,
    );
  return found.spec as ScheduleSpec;
}

async function fromStore(dataDir: string, name: string, url: string | null): Promise<ScheduleSpec> {
  const store = await openReadOnlyStore(dataDir, url);
  try {
    const live = await store.getObject('Schedule', name);
    if (!live) {
      const names = (await store.listObjects('Schedule')).map((o) => o.name);
      throw notFound(
        'Schedule',
        name,
        names,
        `in the live state of ${dataDir}`,
        'give a manifests path to preview from files',
      );
    }
    return live.spec;
  } finally {
    await store.close();
  }
}

async function fromServer(
  server: string,
  name: string,
  tokenFile: string | undefined,
): Promise<ScheduleSpec> {
  const { data } = await callServer<{ objects: Array<{ name: string; spec: ScheduleSpec }> }>(
    server,
    'GET',
    '/api/v1/objects?kind=Schedule',
    { tokenFile },
  );
  const found = data.objects.find((o) => o.name === name);
  if (!found)
    throw notFound(
      'Schedule',
      name,
      data.objects.map((o) => o.name),
      `on ${server}`,
    );
  return found.spec;
}
