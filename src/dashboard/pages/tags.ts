import { Problem, SourceRef, taskLink } from '../components.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { ObjectView, TaskView } from '../types.js';

/** Tags with their members and the tasks that act on them. */
export function Tags() {
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=Tag');
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const tags = objects.data?.objects ?? [];
  return html`
    <h1>Tags</h1>
    <${Problem} error=${objects.error} />
    ${objects.data && tags.length === 0 ? html`<p class="muted">No tags.</p>` : null}
    <table id="tags">
      <thead>
        <tr>
          <th>Tag</th>
          <th>Category</th>
          <th>Members</th>
          <th>Tasks acting on it</th>
        </tr>
      </thead>
      <tbody>
        ${tags.map((o) => {
          const spec = o.spec as { category: string; members: string[] };
          const users = (tasks.data?.tasks ?? []).filter((t) => t.spec?.target?.tag === o.name);
          return html`<tr key=${o.name}>
            <td>
              ${o.name} <${SourceRef} source=${o.source} />
              <div class="muted small">${o.metadata.description ?? ''}</div>
            </td>
            <td>${spec.category}</td>
            <td>${spec.members.map((m) => html`<span class="chip">${m}</span>`)}</td>
            <td>${users.map((t, i) => html`${i ? ', ' : ''}${taskLink(t.name)}`)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  `;
}
