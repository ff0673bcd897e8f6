import type { Command } from 'commander';
import { previewFirings } from '../engine/index.js';
import { escapeControl } from '../manifest/index.js';
import type { ScheduleSpec } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';
import { storeUrl } from './store.js';
import { engineConfig, globalOptions, parseOutputFormat, stdoutPalette } from './context.js';
import { serverFrom } from './http-client.js';
import { liveView, parseKind } from './live-objects.js';
import { notFound } from './names.js';
import { table } from './output.js';
import type { ServerOptions } from './server-options.js';
import { summary } from './wiring.js';

export async function getAction(
  kindWord: string,
  name: string | undefined,
  opts: { output: string } & ServerOptions,
  cmd: Command,
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['text', 'json'] as const);
  const kind = parseKind(kindWord);
  const view = await liveView(
    globalOptions(cmd).dataDir,
    serverFrom(opts.server),
    opts.apiTokenFile,
    storeUrl(cmd),
  );
  try {
    const all = view.objects.filter((o) => o.kind === kind);
    const shown = name === undefined ? all : all.filter((o) => o.name === name);
    if (name !== undefined && shown.length === 0)
      throw notFound(
        kind,
        name,
        all.map((o) => o.name),
        `in ${view.where}`,
      );
    if (format === 'json') {
      process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
      return;
    }
    if (shown.length === 0) {
      process.stdout.write(`no ${kindWord.toLowerCase()} in ${escapeControl(view.where)}\n`);
      return;
    }
    const zone = engineConfig(cmd).config.defaultTimezone;
    const c = stdoutPalette(cmd);
    const rows = shown.map((o) => [o.name, state(o), summary(o), extra(o, zone)].map(escapeControl));
    const header = [
      'NAME',
      'STATE',
      kind === 'Schedule' ? 'WHEN' : 'WHAT',
      kind === 'Schedule' ? 'NEXT' : 'MANAGED',
    ];
    process.stdout.write(
      table(
        rows,
        header.map((h) => c.bold(h)),
      ) + '\n',
    );
  } finally {
    await view.close();
  }
}

function state(o: LiveObject): string {
  if (o.retiredAt) return 'retired';
  const enabled = (o.spec as { enabled?: boolean }).enabled;
  return enabled === false ? 'disabled' : 'enabled';
}

/** Schedules: the next firing in the schedule's zone; others: who manages the object. */
function extra(o: LiveObject, defaultZone: string): string {
  if (o.kind !== 'Schedule') return o.managedBy;
  try {
    const [next] = previewFirings(o.spec as ScheduleSpec, { after: new Date(), count: 1, defaultZone });
    return next ? next.local : 'none';
  } catch {
    return 'cannot be planned';
  }
}
