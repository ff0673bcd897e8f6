import { useState } from 'preact/hooks';
import { ReenableButton, ReplayButton } from '../actions.js';
import { Badge, link, Problem, runLink, SourceRef, taskLink, triggerText, When } from '../components.js';
import { q } from '../api.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type {
  DeliveryView,
  DisabledWebhook,
  ObjectView,
  RunSummary,
  StatusView,
  TaskView,
} from '../types.js';

/** How many recent deliveries of each task the health is judged on. */
const RECENT = 20;
/** How many dead letters the page lists, newest first (the CLI's `taskops deliveries --failed` has them all). */
const FAILED_SHOWN = 100;

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

/** How it delivers, as one line of text (htm would drop the spaces at line breaks between parts). */
const facts = (spec: WebhookSpec): string =>
  [
    `auth ${spec.auth?.type ?? 'none'}`,
    `${spec.retries ?? 3} retries`,
    `timeout ${spec.timeoutSeconds ?? 10} s`,
    ...(spec.signingSecretFrom ? ['signed'] : []),
  ]
    .map((fact) => ` · ${fact}`)
    .join('');

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

/** The receiver answered 410 Gone: nothing is sent until an operator re-enables it (or git changes it). */
function Disabled({
  name,
  disabled,
  onEnabled,
}: {
  name: string;
  disabled: DisabledWebhook;
  onEnabled: () => void;
}) {
  // Explicit spaces: htm drops the ones next to a line break beside an element.
  const sp = ' ';
  return html`<div class="disabled-webhook" role="alert">
    <${Badge} status="disabled" />${sp}Disabled by the receiver: HTTP ${disabled.status} at${sp}
    <${When}
      at=${disabled.at}
    />${sp}in${sp}${link(`#/runs/${encodeURIComponent(disabled.runId)}`, 'this delivery')}; deliveries fail at
    once until it is re-enabled (or the Webhook changes in git).${sp}
    <${ReenableButton} webhook=${name} onEnabled=${onEnabled} />
  </div>`;
}

/** The dead letters of one Webhook: deliveries that ended failed, each with Replay. */
function FailedDeliveries({
  deliveries,
  onReplayed,
}: {
  deliveries: DeliveryView[];
  onReplayed: () => void;
}) {
  if (deliveries.length === 0) return null;
  return html`<h3>Failed deliveries</h3>
    <table class="compact failed-deliveries">
      <thead>
        <tr>
          <th>Queued</th>
          <th>Task</th>
          <th>Trigger</th>
          <th>Attempts</th>
          <th>Last error</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${deliveries.map(
          (d) =>
            html`<tr key=${d.runId} data-delivery=${d.runId}>
              <td>${link(`#/runs/${encodeURIComponent(d.runId)}`, html`<${When} at=${d.queuedAt} />`)}</td>
              <td>${taskLink(d.task)}</td>
              <td>${triggerText(d.trigger)}</td>
              <td>${d.attempts}</td>
              <td class="error-text">${d.lastError ?? d.error ?? ''}</td>
              <td><${ReplayButton} runId=${d.runId} onReplayed=${onReplayed} /></td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/**
 * Webhooks: where they deliver (secrets shown only as their reference), their delivery health, the failed
 * deliveries with Replay, and Re-enable for one its receiver disabled.
 */
export function Webhooks() {
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=Webhook');
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const failed = useApi<{ deliveries: DeliveryView[] }>(
    `/api/v1/deliveries${q({ failed: '1', limit: String(FAILED_SHOWN) })}`,
  );
  const status = useApi<StatusView>('/api/v1/status');
  // Said on the page, not in the alert: the alert goes as soon as the status is read again.
  const [reenabled, setReenabled] = useState<ReadonlySet<string>>(new Set());
  const enabled = (name: string) => () => {
    setReenabled((names) => new Set([...names, name]));
    status.reload();
  };
  const webhooks = objects.data?.objects ?? [];
  return html`
    <h1>Webhooks</h1>
    <${Problem} error=${objects.error ?? failed.error} />
    ${objects.data && webhooks.length === 0 ? html`<p class="muted">No webhooks.</p>` : null}
    ${webhooks.map((o) => {
      const spec = o.spec as WebhookSpec;
      const users = (tasks.data?.tasks ?? []).filter(
        (t) => t.targetKind === 'webhook' && t.spec?.target?.name === o.name,
      );
      const disabled = status.data?.disabledWebhooks?.[o.name];
      const dead = (failed.data?.deliveries ?? []).filter((d) => d.webhook === o.name);
      return html`<section class="object" data-webhook=${o.name} key=${o.name}>
        <h2>${o.name} <${SourceRef} source=${o.source} /></h2>
        ${disabled ? html`<${Disabled} name=${o.name} disabled=${disabled} onEnabled=${enabled(o.name)} />` : null}
        ${!disabled && reenabled.has(o.name) ? html`<p class="ok" role="status">Deliveries are sent again.</p>` : null}
        <p>
          ${spec.url ? html`URL <code>${spec.url}</code>` : `URL from ${secretRef(spec.urlFrom)}`}${facts(spec)}
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
        <${FailedDeliveries} deliveries=${dead} onReplayed=${failed.reload} />
      </section>`;
    })}
  `;
}
