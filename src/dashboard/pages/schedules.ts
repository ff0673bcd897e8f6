import { Badge, Problem, SourceRef, taskLink } from '../components.js';
import { inZone, viewerZone } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { ObjectView, ScheduleView } from '../types.js';

function when(spec: Record<string, unknown>): string {
  if (typeof spec.cron === 'string') return `cron ${spec.cron}`;
  if (typeof spec.once === 'string') return `once at ${spec.once}`;
  const r = spec.repeat as { every: number; unit: string; on?: unknown[]; at?: string } | undefined;
  if (!r) return '—';
  return `every ${r.every} ${r.unit}${r.on ? ` on ${r.on.join(', ')}` : ''}${r.at ? ` at ${r.at}` : ''}`;
}

/** Schedules with a preview of their next firings, in their zone and the viewer's. */
export function Schedules() {
  const schedules = useApi<{ schedules: ScheduleView[] }>('/api/v1/schedules?count=5');
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=Schedule');
  const source = (name: string) => objects.data?.objects.find((o) => o.name === name)?.source;
  return html`
    <h1>Schedules</h1>
    <${Problem} error=${schedules.error} />
    ${(schedules.data?.schedules ?? []).map(
      (s) =>
        html`<section class="object" data-schedule=${s.name} key=${s.name}>
          <h2>${s.name} <${SourceRef} source=${s.source ?? source(s.name)} /></h2>
          <p>
            ${when(s.spec)} · zone <strong>${s.timezone}</strong> ·
            <${Badge} status=${s.enabled ? 'enabled' : 'disabled'} />
          </p>
          <p>
            Fires:
            ${s.tasks.length ? s.tasks.map((t, i) => html`${i ? ', ' : ''}${taskLink(t)}`) : html`<span class="muted">no task</span>`}
          </p>
          ${s.error ? html`<p class="error">${s.error}</p>` : null}
          ${
            s.nextFirings.length
              ? html`<table class="compact">
                  <thead>
                    <tr>
                      <th>${s.timezone}</th>
                      <th>Your time (${viewerZone})</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${s.nextFirings.map(
                      (f) =>
                        html`<tr>
                          <td class="zone-time">${f.local}</td>
                          <td>${inZone(f.at)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p class="muted">No upcoming firing.</p>`
          }
        </section>`,
    )}
  `;
}
