import type { ComponentChildren } from 'preact';
import { html } from './html.js';
import { attemptCount, duration, inZone, relative, viewerZone } from './format.js';
import type { RunSummary, Source } from './types.js';

export const link = (href: string, text: ComponentChildren) => html`<a href=${href}>${text}</a>`;
export const taskLink = (name: string) => link(`#/tasks/${encodeURIComponent(name)}`, name);
export const runLink = (run: RunSummary, text?: string) =>
  link(`#/runs/${encodeURIComponent(run.runId)}`, text ?? run.runId);

export function Badge({ status }: { status: string }) {
  return html`<span class=${`badge ${status}`}>${status}</span>`;
}

/** A time in the viewer's zone, with the exact instant on hover. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return html`<span class="muted">—</span>`;
  return html`<time datetime=${at} title=${at}>${inZone(at, viewerZone)}</time>`;
}

/** Where the object is defined in the repo, when the server knows it. */
export function SourceRef({ source }: { source?: Source | undefined }) {
  if (!source) return null;
  return html`<code class="source" title="defined at">${source.file}:${source.line}</code>`;
}

export function Problem({ error }: { error: string | null }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

export function Section({
  title,
  children,
  id,
}: {
  title: string;
  children: ComponentChildren;
  id?: string;
}) {
  return html`<section id=${id}>
    <h2>${title}</h2>
    ${children}
  </section>`;
}

export function triggerText(t: RunSummary['trigger']): string {
  if (t.kind === 'manual') return 'manual';
  return t.name ? `${t.kind} ${t.name}` : t.kind;
}

/** The runs table of the logs page, a task's page and the overview's recent failures. */
export function RunsTable({ runs, empty }: { runs: RunSummary[]; empty: string }) {
  if (runs.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table class="runs">
    <thead>
      <tr>
        <th>Queued</th>
        <th>Task</th>
        <th>Status</th>
        <th>Trigger</th>
        <th>Target</th>
        <th>Duration</th>
        <th>Attempts</th>
        <th>Error</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(
        (r) =>
          html`<tr key=${r.runId} data-run=${r.runId}>
            <td>
              ${runLink(r, inZone(r.queuedAt))}
              <div class="muted small">${relative(r.queuedAt)}</div>
            </td>
            <td>${taskLink(r.task)}</td>
            <td><${Badge} status=${r.status} /></td>
            <td>${triggerText(r.trigger)}</td>
            <td>${r.target?.name ?? '—'}</td>
            <td>${duration(r.durationMs)}</td>
            <td>${attemptCount(r.attempts)}</td>
            <td class="error-text">${r.error ?? ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
