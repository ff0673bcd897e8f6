import type { ResolvedConfig } from '../config/index.js';
import { expandArgv } from '../engine/drivers/argv.js';
import { buildState, targetsOf } from '../engine/state.js';
import { escapeControl, escapeControlKeepingLines } from '../manifest/index.js';
import {
  expandPayload,
  expandTemplate,
  parsePayloadTemplate,
  type TemplateVars,
} from '../manifest/template.js';
import type { TaskSpec, WebhookSpec } from '../manifest/types.js';
import type { LiveObject } from '../store/types.js';
import { notFound } from './names.js';
import type { Palette } from './output.js';
import { maskedUrl } from './wiring.js';

/** What one target's run would do, resolved as the driver would, with no secret read and nothing executed. */
export interface DryRunCall {
  target: string | null;
  argv?: string[];
  request?: { method: 'POST'; url: string; headers: string[]; body: string };
  email?: { to: string[]; subject: string; body: string };
  /** What a driver without an argv or a request of its own would do (VergeOS). */
  note?: string;
  /** Why the real run would fail before acting (a refused argument, a missing Webhook, no driver). */
  problem?: string;
}

const RUN_ID = 'dry-run';

/** `run --dry-run`: the calls a manual run of `name` would make, one per target, from the live objects. */
export function dryRun(
  name: string,
  objects: readonly LiveObject[],
  config: ResolvedConfig,
  where: string,
): DryRunCall[] {
  const state = buildState(objects);
  const task = state.tasks.get(name);
  if (!task) throw notFound('Task', name, [...state.tasks.keys()], `in ${where}`);
  const targets = task.objectType === 'webhook' ? [task.target?.name ?? null] : targetsOf(task, state);
  return targets.map((target) => {
    const builtIn = task.objectType === 'webhook' || task.objectType === 'email';
    const vars: TemplateVars = {
      now: new Date(),
      zone: config.config.defaultTimezone,
      random: Math.random,
      // As the engine does: a built-in driver reports on the event's object, which a manual run has not.
      name: builtIn ? null : target,
      task: name,
      runId: RUN_ID,
    };
    return { target, ...callOf(task, vars, state.webhooks, config) };
  });
}

function callOf(
  task: TaskSpec,
  vars: TemplateVars,
  webhooks: Map<string, WebhookSpec>,
  config: ResolvedConfig,
): Omit<DryRunCall, 'target'> {
  if (task.objectType === 'webhook') {
    const name = task.target?.name ?? '';
    const spec = webhooks.get(name);
    if (!spec) return { problem: `Webhook/${name} does not exist in the live state` };
    const template = parsePayloadTemplate((task.params?.payload ?? '') as string | object);
    if (!template.ok) return { problem: `params.payload: ${template.message}` };
    // The URL may come from a secret, and even a literal one may carry a token in its path: masked.
    const url = spec.urlFrom ? `(from ${secretLabel(spec.urlFrom)})` : maskedUrl(spec.url ?? '');
    const headers = [
      ...Object.keys(spec.headers ?? {}),
      ...(spec.auth && spec.auth.type !== 'none' ? [`authorization (${spec.auth.type})`] : []),
    ];
    return { request: { method: 'POST', url, headers, body: expandPayload(template.template, vars) } };
  }
  if (task.objectType === 'email') {
    const p = task.params ?? {};
    const to = ([] as unknown[]).concat(p.to ?? []).map(String);
    return {
      email: {
        to,
        subject: expandTemplate(String(p.subject ?? ''), vars).replace(/[\r\n]+/g, ' '),
        body: expandTemplate(String(p.body ?? ''), vars),
      },
    };
  }
  const driver = config.config.drivers?.[task.objectType];
  if (driver?.type === 'vergeos') {
    const at = driver.urlFrom ? `(from ${secretLabel(driver.urlFrom)})` : maskedUrl(driver.url ?? '');
    return { note: `VergeOS ${task.action} of ${vars.name ?? 'no target'} through ${at}` };
  }
  const template = driver?.actions?.[task.action];
  if (!driver || !template) {
    return { problem: `no driver action ${task.objectType} ${task.action} in the engine config` };
  }
  if (driver.type === 'noop') return { argv: [] };
  const expanded = expandArgv(template, vars);
  return expanded.ok
    ? { argv: expanded.argv }
    : { problem: `${expanded.error}; the program would not be started` };
}

const secretLabel = (ref: { env?: string; file?: string }) =>
  ref.env ? `env ${ref.env}` : `file ${ref.file ?? '?'}`;

export function renderDryRun(name: string, calls: readonly DryRunCall[], c: Palette): string {
  const e = escapeControl;
  const lines = [
    `${c.bold(`Task/${e(name)}`)}: dry run, nothing was executed; ${calls.length} call${calls.length === 1 ? '' : 's'}`,
  ];
  for (const call of calls) {
    lines.push(`  target ${call.target === null ? '(none)' : e(call.target)}`);
    if (call.problem) lines.push(`    ${c.red(`would fail: ${e(call.problem)}`)}`);
    if (call.note) lines.push(`    ${e(call.note)}`);
    if (call.argv) lines.push(`    argv: ${call.argv.map((a) => e(JSON.stringify(a))).join(' ')}`);
    if (call.request) {
      lines.push(`    ${call.request.method} ${e(call.request.url)}`);
      if (call.request.headers.length)
        lines.push(`    headers: ${call.request.headers.map(e).join(', ')} (values not shown)`);
      lines.push(`    body: ${e(call.request.body)}`);
    }
    if (call.email) {
      lines.push(`    to: ${call.email.to.map(e).join(', ')}`, `    subject: ${e(call.email.subject)}`);
      lines.push(
        ...escapeControlKeepingLines(call.email.body)
          .split('\n')
          .map((l) => `    | ${l}`),
      );
    }
  }
  return lines.join('\n') + '\n';
}
