import { Problem, RunsTable } from '../components.js';
import { html } from '../html.js';
import { useApi, useRunStream } from '../hooks.js';
import type { TaskView } from '../types.js';

const STATUSES = [
  'queued',
  'delayed',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'interrupted',
  'cancelled',
];
const TRIGGERS = ['schedule', 'event', 'manual', 'replay'];

/** The filters live in the URL (`#/logs?task=…&status=…`), so a filtered view can be shared. */
function setFilter(query: URLSearchParams, key: string, value: string): void {
  const next = new URLSearchParams(query);
  if (value) next.set(key, value);
  else next.delete(key);
  location.hash = `#/logs?${next.toString()}`;
}

/** Task logs: filters by task, status, trigger and time; new runs appear live. */
export function Logs({ query }: { query: URLSearchParams }) {
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const task = query.get('task') ?? '';
  const status = query.get('status') ?? '';
  const trigger = query.get('trigger') ?? '';
  const since = query.get('since') ?? '';
  const server = new URLSearchParams({ limit: '200' });
  if (task) server.set('task', task);
  if (status) server.set('status', status);
  if (since) server.set('since', new Date(since).toISOString());
  const { runs, live } = useRunStream(server.toString(), 200);
  const shown = runs.filter(
    (r) => (!trigger || r.trigger.kind === trigger) && (!status || r.status === status),
  );
  const select = (key: string, value: string, options: string[], all: string) =>
    html`<select
      name=${key}
      value=${value}
      onChange=${(e: Event) => setFilter(query, key, (e.target as HTMLSelectElement).value)}
    >
      <option value="">${all}</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>`;
  return html`
    <h1>Task logs <span class=${live ? 'live on' : 'live'}>${live ? 'live' : 'connecting…'}</span></h1>
    <${Problem} error=${tasks.error} />
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label
        >Task
        ${select(
          'task',
          task,
          (tasks.data?.tasks ?? []).map((t) => t.name),
          'all tasks',
        )}</label
      >
      <label>Status ${select('status', status, STATUSES, 'any status')}</label>
      <label>Trigger ${select('trigger', trigger, TRIGGERS, 'any trigger')}</label>
      <label
        >Since
        <input
          type="datetime-local"
          name="since"
          value=${since}
          onChange=${(e: Event) => setFilter(query, 'since', (e.target as HTMLInputElement).value)}
      /></label>
    </form>
    <${RunsTable} runs=${shown} empty="No runs match." />
  `;
}
