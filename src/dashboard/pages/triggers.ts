import { Badge, Problem, SourceRef, taskLink } from '../components.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { ObjectView } from '../types.js';

interface TriggerSpec {
  enabled?: boolean;
  event: { type: string; name: string; object?: string; tag?: string; where?: Record<string, unknown> };
  tasks: string[];
}

function matches(e: TriggerSpec['event']): string {
  const who =
    e.object !== undefined
      ? `object ${e.object}`
      : e.tag !== undefined
        ? `any member of tag ${e.tag}`
        : 'any object';
  const where = e.where
    ? Object.entries(e.where)
        .map(([k, v]) => ` where ${k} = ${String(v)}`)
        .join(' and')
    : '';
  return `${e.type}/${e.name} of ${who}${where}`;
}

/** Event triggers: what each one matches and the tasks it fires. */
export function Triggers() {
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=EventTrigger');
  const triggers = objects.data?.objects ?? [];
  return html`
    <h1>Event triggers</h1>
    <${Problem} error=${objects.error} />
    ${objects.data && triggers.length === 0 ? html`<p class="muted">No event triggers.</p>` : null}
    <table id="triggers">
      <thead>
        <tr>
          <th>Trigger</th>
          <th>Matches</th>
          <th>Fires</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        ${triggers.map((o) => {
          const spec = o.spec as unknown as TriggerSpec;
          return html`<tr key=${o.name}>
            <td>
              ${o.name} <${SourceRef} source=${o.source} />
              <div class="muted small">${o.metadata.description ?? ''}</div>
            </td>
            <td>${matches(spec.event)}</td>
            <td>${spec.tasks.map((t, i) => html`${i ? ', ' : ''}${taskLink(t)}`)}</td>
            <td><${Badge} status=${spec.enabled === false ? 'disabled' : 'enabled'} /></td>
          </tr>`;
        })}
      </tbody>
    </table>
  `;
}
