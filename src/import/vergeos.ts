import { stringify } from 'yaml';
import { API_VERSION, type Kind } from '../manifest/types.js';

/** What `taskops import vergeos` read: rows of VergeOS's task-engine tables, owner references resolved to names. */
export interface VergeosSnapshot {
  tasks: Row[];
  schedules: Row[];
  scheduleTriggers: Row[];
  taskEvents: Row[];
  webhookUrls: Row[];
  /** `"vms/42"` → `"gpu-ws-01"`, for every owner reference the reader could resolve. */
  names: Record<string, string>;
}
export type Row = Record<string, unknown>;

export interface ImportResult {
  /** File name → YAML text (several documents per file). */
  files: Record<string, string>;
  /** Everything that could not be carried over as it was, one line each; nothing is dropped silently. */
  report: string[];
  /** Environment variables the manifests now reference: set them, and allow them in the engine config. */
  secretEnv: string[];
}

interface Doc {
  kind: Kind;
  name: string;
  description?: string;
  spec: Record<string, unknown>;
}

/** VergeOS vm task actions → taskops's vergeos driver actions. */
const VM_ACTIONS: Record<string, string> = {
  poweron: 'power-on',
  poweroff: 'power-off',
  kill: 'kill',
  reset: 'reset',
};
const UNITS: Record<string, string> = {
  minute: 'minutes',
  hour: 'hours',
  day: 'days',
  week: 'weeks',
  month: 'months',
};
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/**
 * Converts a VergeOS Tasks Dashboard into taskops manifests. Pure: the reader does the I/O. Secrets
 * (webhook authorization values) become `{env: NAME}` references, never values.
 */
export function convertVergeos(snapshot: VergeosSnapshot, opts: { timezone: string }): ImportResult {
  const report: string[] = [];
  const secretEnv: string[] = [];
  const names = new NameBook(report);
  const docs: Doc[] = [];

  const webhookName = new Map<string, string>();
  for (const row of snapshot.webhookUrls) {
    const name = names.take('Webhook', row.name, row.$key);
    webhookName.set(String(row.$key), name);
    docs.push({ kind: 'Webhook', name, spec: webhookSpec(row, name, report, secretEnv) });
  }

  const scheduleName = new Map<string, string>();
  for (const row of snapshot.schedules) {
    const name = names.take('Schedule', row.name, row.$key);
    const spec = scheduleSpec(row, name, opts.timezone, report);
    if (!spec) continue;
    scheduleName.set(String(row.$key), name);
    docs.push({ kind: 'Schedule', name, ...described(row), spec });
  }
  if (snapshot.schedules.length > 0)
    report.push(`note: VergeOS schedules carry no time zone; imported as ${opts.timezone} (--timezone)`);

  const taskName = new Map<string, string>();
  for (const row of snapshot.tasks) {
    const name = names.take('Task', row.name, row.$key);
    const spec = taskSpec(row, name, snapshot.names, webhookName, report);
    if (!spec) continue;
    const schedules = snapshot.scheduleTriggers
      .filter((t) => String(t.task) === String(row.$key))
      .map((t) => scheduleName.get(String(t.schedule)))
      .filter((s): s is string => s !== undefined);
    if (schedules.length > 0) spec.schedules = schedules;
    taskName.set(String(row.$key), name);
    docs.push({ kind: 'Task', name, ...described(row), spec });
  }

  for (const row of snapshot.taskEvents) {
    const task = taskName.get(String(row.task));
    const label = `task event ${String(row.$key)} (${String(row.table)}/${String(row.event)})`;
    if (!task) {
      report.push(`not imported: ${label}: its task ${String(row.task)} was not imported`);
      continue;
    }
    const event: Record<string, unknown> = { type: String(row.table ?? ''), name: String(row.event ?? '') };
    const owner = typeof row.owner === 'string' && row.owner ? row.owner : undefined;
    if (owner) {
      const ownerName = snapshot.names[owner];
      if (ownerName) event.object = ownerName;
      else report.push(`note: ${label}: owner ${owner} could not be named; the trigger fires for any object`);
    }
    const filters = parseFilters(row.table_event_filters);
    if (filters) event.where = filters;
    const name = names.take('EventTrigger', row.event_name ?? `${task}-on-${String(row.event)}`, row.$key);
    docs.push({ kind: 'EventTrigger', name, spec: { event, tasks: [task] } });
  }

  const files: Record<string, string> = {};
  const byFile: Record<string, string> = {
    Webhook: 'webhooks.yaml',
    Schedule: 'schedules.yaml',
    Task: 'tasks.yaml',
    EventTrigger: 'triggers.yaml',
    Tag: 'tags.yaml',
  };
  for (const doc of docs) {
    const file = byFile[doc.kind]!;
    const text = stringify({
      apiVersion: API_VERSION,
      kind: doc.kind,
      metadata: {
        name: doc.name,
        ...(doc.description ? { description: doc.description } : {}),
        labels: { 'imported-from': 'vergeos' },
      },
      spec: doc.spec,
    });
    files[file] = files[file]
      ? `${files[file]}---\n${text}`
      : `# Imported from VergeOS by taskops import vergeos\n${text}`;
  }
  return { files, report, secretEnv: [...new Set(secretEnv)].sort() };
}

function described(row: Row): { description?: string } {
  return typeof row.description === 'string' && row.description
    ? { description: row.description.slice(0, 1024) }
    : {};
}

function webhookSpec(row: Row, name: string, report: string[], secretEnv: string[]): Record<string, unknown> {
  const spec: Record<string, unknown> = { url: String(row.url ?? '') };
  const env = `VERGEOS_WEBHOOK_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const type = String(row.authorization_type ?? 'none');
  if (type === 'bearer') {
    spec.auth = { type: 'bearer', tokenFrom: { env: `${env}_TOKEN` } };
    secretEnv.push(`${env}_TOKEN`);
  } else if (type === 'apikey') {
    spec.auth = { type: 'apiKey', apiKey: { header: 'X-API-Key', valueFrom: { env: `${env}_KEY` } } };
    secretEnv.push(`${env}_KEY`);
    report.push(
      `note: Webhook/${name}: VergeOS's API key header name is not in the API; assumed X-API-Key, check it`,
    );
  } else if (type === 'basic') {
    spec.auth = { type: 'basic', username: 'CHANGE-ME', passwordFrom: { env: `${env}_PASSWORD` } };
    secretEnv.push(`${env}_PASSWORD`);
    report.push(`note: Webhook/${name}: basic auth imported with username CHANGE-ME; set the user name`);
  }
  const headers: Record<string, string> = {};
  for (const line of String(row.headers ?? '').split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const header = line.slice(0, at).trim();
    if (/authorization|token|secret|api[-_]?key|password|cookie/i.test(header)) {
      report.push(
        `not imported: Webhook/${name}: header ${header} holds a secret; use auth with a *From reference instead`,
      );
      continue;
    }
    headers[header] = line.slice(at + 1).trim();
  }
  if (Object.keys(headers).length > 0) spec.headers = headers;
  if (row.allow_insecure === true) spec.allowInsecureCertificates = true;
  if (typeof row.timeout === 'number') spec.timeoutSeconds = Math.min(120, Math.max(3, row.timeout));
  if (typeof row.retries === 'number') spec.retries = Math.min(100, Math.max(0, row.retries));
  return spec;
}

function scheduleSpec(
  row: Row,
  name: string,
  timezone: string,
  report: string[],
): Record<string, unknown> | null {
  const spec: Record<string, unknown> = { timezone };
  if (row.enabled === false) spec.enabled = false;
  const at = timeOfDay(row.start_time_of_day);
  const unit = String(row.repeat_every ?? 'never');
  const every = Math.max(1, Number(row.repeat_iteration ?? 1) || 1);
  const startDate = dateOf(row.start_date);
  if (unit === 'never') {
    if (!startDate) {
      report.push(`not imported: Schedule/${name}: a one-time schedule without a start_date`);
      return null;
    }
    spec.once = `${startDate}T${at}:00`;
    return spec;
  }
  if (unit === 'year') {
    spec.repeat = {
      every: every * 12,
      unit: 'months',
      ...(startDate ? { on: [Number(startDate.slice(8, 10))] } : {}),
      at,
    };
    report.push(
      `note: Schedule/${name}: yearly repeats imported as every ${every * 12} months from startsAt`,
    );
  } else if (UNITS[unit]) {
    const repeat: Record<string, unknown> = { every, unit: UNITS[unit] };
    if (unit === 'week') {
      const days = WEEKDAYS.filter((d) => row[d] === true);
      if (days.length > 0) repeat.on = days;
    }
    if (unit === 'month') {
      const dom = String(row.day_of_month ?? 'start_date');
      repeat.on = [
        dom === 'last'
          ? 'last'
          : dom === 'first'
            ? 1
            : dom === '15th'
              ? 15
              : startDate
                ? Number(startDate.slice(8, 10))
                : 1,
      ];
    }
    if (unit === 'day' || unit === 'week' || unit === 'month') repeat.at = at;
    spec.repeat = repeat;
  } else {
    report.push(`not imported: Schedule/${name}: unknown repeat_every ${JSON.stringify(unit)}`);
    return null;
  }
  if (
    row.end_time_of_day !== undefined &&
    row.end_time_of_day !== null &&
    Number(row.end_time_of_day) !== 0 &&
    (unit === 'minute' || unit === 'hour')
  )
    report.push(
      `not imported: Schedule/${name}: its daily window ending at ${timeOfDay(row.end_time_of_day)} (taskops repeats all day); use a cron schedule to limit the hours`,
    );
  if (startDate) spec.startsAt = `${startDate}T${at}:00`;
  const endDate = dateOf(row.end_date);
  if (endDate) spec.endsAt = `${endDate}T23:59:59`;
  return spec;
}

function taskSpec(
  row: Row,
  name: string,
  names: Record<string, string>,
  webhooks: Map<string, string>,
  report: string[],
): Record<string, unknown> | null {
  const table = String(row.table ?? '');
  const action = String(row.action ?? '');
  const spec: Record<string, unknown> = {};
  if (row.enabled === false) spec.enabled = false;
  if (row.delete_after_run === true) spec.deleteAfterRun = true;
  const owner = typeof row.owner === 'string' ? row.owner : '';
  if (table === 'webhook_urls' || table === 'webhooks') {
    const webhook = webhooks.get(owner.split('/')[1] ?? '');
    if (!webhook) {
      report.push(`not imported: Task/${name}: its webhook ${owner || '(none)'} was not imported`);
      return null;
    }
    const args = row.settings_args as Record<string, unknown> | undefined;
    const message = typeof args?.message === 'string' ? args.message : undefined;
    Object.assign(spec, {
      objectType: 'webhook',
      target: { name: webhook },
      action: 'send',
      params: { payload: message ?? '{"text": "${NAME}"}' },
    });
    if (message === undefined)
      report.push(`note: Task/${name}: no message in settings_args; a placeholder payload was written`);
    return spec;
  }
  const mapped = table === 'vms' ? VM_ACTIONS[action] : undefined;
  const target = names[owner];
  if (!target) {
    report.push(`not imported: Task/${name}: its object ${owner || '(none)'} could not be named`);
    return null;
  }
  Object.assign(spec, {
    objectType: table,
    target: { name: target },
    action: mapped ?? action.replace(/_/g, '-'),
  });
  if (!mapped)
    report.push(
      `note: Task/${name}: ${table} action ${action} needs a driver for ${table} in the engine config`,
    );
  if (row.settings_args && typeof row.settings_args === 'object' && Object.keys(row.settings_args).length > 0)
    report.push(
      `not imported: Task/${name}: settings_args ${JSON.stringify(row.settings_args)} (the vergeos driver takes no parameters)`,
    );
  return spec;
}

function parseFilters(value: unknown): Record<string, string> | undefined {
  let parsed = value;
  if (typeof value === 'string' && value.trim()) {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const out = Object.fromEntries(
    Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
  );
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Seconds since midnight → "HH:MM". */
function timeOfDay(value: unknown): string {
  const s = Math.max(0, Math.min(86_399, Number(value ?? 0) || 0));
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

/** A VergeOS date (YYYY-MM-DD text or epoch seconds) → YYYY-MM-DD; undefined when absent. */
function dateOf(value: unknown): string | undefined {
  if (typeof value === 'number' && value > 0) return new Date(value * 1000).toISOString().slice(0, 10);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  return undefined;
}

/** taskops names: 1-63 of [A-Za-z0-9._-], unique per kind; every rename is reported. */
class NameBook {
  private readonly used = new Map<Kind, Set<string>>();
  constructor(private readonly report: string[]) {}

  take(kind: Kind, raw: unknown, key: unknown): string {
    const original = typeof raw === 'string' ? raw : '';
    let name = original
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 63)
      .replace(/-+$/, '');
    if (!name) name = `${kind.toLowerCase()}-${String(key)}`;
    const used = this.used.get(kind) ?? new Set<string>();
    this.used.set(kind, used);
    let unique = name;
    for (let i = 2; used.has(unique); i++) unique = `${name.slice(0, 60)}-${i}`;
    used.add(unique);
    if (unique !== original)
      this.report.push(
        `note: ${kind} ${JSON.stringify(original)} (VergeOS key ${String(key)}) is named ${unique}`,
      );
    return unique;
  }
}
