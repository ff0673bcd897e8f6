import { useState } from 'preact/hooks';
import { Badge, Problem, SourceRef, taskLink, When } from '../components.js';
import { relative, targetText } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { TaskView } from '../types.js';

const stateOf = (t: TaskView) => (t.retired ? 'retired' : t.spec?.enabled === false ? 'disabled' : 'enabled');

/** Every task with its wiring: the schedules and event triggers that fire it. */
export function Tasks() {
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const [filter, setFilter] = useState('');
  const shown = (tasks.data?.tasks ?? []).filter((t) => t.name.includes(filter));
  return html`
    <h1>Tasks</h1>
    <${Problem} error=${tasks.error} />
    <p>
      <input
        type="search"
        placeholder="Filter by name"
        value=${filter}
        onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)}
      />
    </p>
    <table id="tasks">
      <thead>
        <tr>
          <th>Task</th>
          <th>Action</th>
          <th>Target</th>
          <th>State</th>
          <th>Schedules</th>
          <th>Event triggers</th>
          <th>Last run</th>
          <th>Next firing</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (t) =>
            html`<tr key=${t.name} data-task=${t.name}>
              <td>${taskLink(t.name)} <${SourceRef} source=${t.source} /></td>
              <td>${t.spec ? `${t.spec.objectType} ${t.spec.action}` : '—'}</td>
              <td>${targetText(t.spec?.target)}</td>
              <td><${Badge} status=${stateOf(t)} /></td>
              <td>
                ${(t.spec?.schedules ?? []).map((s) => html`<a class="chip" href="#/schedules">${s}</a>`)}
              </td>
              <td>${(t.triggers ?? []).map((s) => html`<a class="chip" href="#/triggers">${s}</a>`)}</td>
              <td>
                ${t.lastRun ? html`<${Badge} status=${t.lastRun.status} /> ${relative(t.lastRun.queuedAt)}` : html`<span class="muted">never</span>`}
              </td>
              <td><${When} at=${t.nextFirings?.[0]} /></td>
            </tr>`,
        )}
      </tbody>
    </table>
  `;
}
