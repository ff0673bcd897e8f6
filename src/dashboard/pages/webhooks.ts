import { Badge, Problem, runLink, SourceRef, taskLink, When } from '../components.js';
import { q } from '../api.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { ObjectView, RunSummary, TaskView } from '../types.js';

/** How many recent deliveries of each task the health is judged on. */
const RECENT = 20;

interface WebhookSpec {
  url?: string;
  urlFrom?: Record<string, string>;
  auth?: { type: string };
  retries?: number;
  timeoutSeconds?: number;
  signingSecretFrom?: unknown;
}

const secretRef = (ref: Record<string, string> | undefined) =>
  ref
    ? Object.entries(ref)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '';

/** Delivery health of one task's webhook: the share of its recent runs that succeeded and the last failure. */
function Health({ task }: { task: string }) {
  const runs = useApi<{ runs: RunSummary[] }>(`/api/v1/runs${q({ task, limit: String(RECENT) })}`);
  const list = (runs.data?.runs ?? []).filter((r) => r.status === 'succeeded' || r.status === 'failed');
  const ok = list.filter((r) => r.status === 'succeeded').length;
  const lastFailure = list.find((r) => r.status === 'failed');
  const health =
    list.length === 0 ? 'unknown' : ok === list.length ? 'healthy' : ok === 0 ? 'failing' : 'degraded';
  return html`<tr>
    <td>${taskLink(task)}</td>
    <td>
      <${Badge} status=${health} /> ${list.length ? `${ok} of ${list.length} delivered` : 'no deliveries yet'}
    </td>
    <td>
      ${
        lastFailure
          ? html`${runLink(lastFailure, 'last failure')} <${When} at=${lastFailure.queuedAt} />
              <div class="error-text">${lastFailure.error}</div>`
          : '—'
      }
    </td>
  </tr>`;
}

/** Webhooks: where they deliver (secrets shown only as their reference) and their delivery health. */
export function Webhooks() {
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=Webhook');
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const webhooks = objects.data?.objects ?? [];
  return html`
    <h1>Webhooks</h1>
    <${Problem} error=${objects.error} />
    ${objects.data && webhooks.length === 0 ? html`<p class="muted">No webhooks.</p>` : null}
    ${webhooks.map((o) => {
      const spec = o.spec as WebhookSpec;
      const users = (tasks.data?.tasks ?? []).filter(
        (t) => t.targetKind === 'webhook' && t.spec?.target?.name === o.name,
      );
      return html`<section class="object" data-webhook=${o.name} key=${o.name}>
        <h2>${o.name} <${SourceRef} source=${o.source} /></h2>
        <p>
          ${spec.url ? html`URL <code>${spec.url}</code>` : html`URL from ${secretRef(spec.urlFrom)}`} · auth
          ${spec.auth?.type ?? 'none'} · ${spec.retries ?? 3} retries · timeout ${spec.timeoutSeconds ?? 10} s
          ${spec.signingSecretFrom ? '· signed' : ''}
        </p>
        ${
          users.length
            ? html`<table class="compact">
                <thead>
                  <tr>
                    <th>Task</th>
                    <th>Recent deliveries</th>
                    <th>Last failure</th>
                  </tr>
                </thead>
                <tbody>
                  ${users.map((t) => html`<${Health} task=${t.name} key=${t.name} />`)}
                </tbody>
              </table>`
            : html`<p class="muted">No task delivers to it.</p>`
        }
      </section>`;
    })}
  `;
}
