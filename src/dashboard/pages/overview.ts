import { useEffect } from 'preact/hooks';
import { Badge, Problem, RunsTable, Section, taskLink, When } from '../components.js';
import { inZone, relative, shortRevision, targetText, viewerZone } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { RunSummary, ScheduleView, StatusView, TaskView } from '../types.js';

/** At most this many tasks on the overview; the Tasks page lists them all. */
const TASKS_SHOWN = 50;

function SyncCard({ status }: { status: StatusView }) {
  const sync = status.sync;
  const failed = sync?.lastError;
  return html`<div class=${`card ${failed ? 'bad' : 'good'}`} id="sync">
    <h3>Last sync</h3>
    ${
      !sync
        ? html`<p class="muted">No sync yet.</p>`
        : html`<p>
              ${failed ? html`<${Badge} status="failed" /> ${failed.message}` : html`<${Badge} status=${sync.lastOutcome ?? 'succeeded'} />`}
            </p>
            <p class="muted small">${sync.source ?? ''} · attempted <${When} at=${sync.lastAttemptAt} /></p>
            ${
              failed && failed.problems.length > 0
                ? html`<ul class="problems">
                    ${failed.problems.map((p) => html`<li><code>${p}</code></li>`)}
                  </ul>`
                : null
            }
            ${
              sync.pending
                ? html`<p>
                    Waiting to apply: ${sync.pending.create} to create, ${sync.pending.update} to update,
                    ${sync.pending.delete} to delete.
                  </p>`
                : null
            }`
    }
  </div>`;
}

function Counts({ status }: { status: StatusView }) {
  return html`<div class="card" id="counts">
    <h3>Objects</h3>
    <table class="compact">
      <thead>
        <tr>
          <th>Kind</th>
          <th>Total</th>
          <th>By API</th>
          <th>Retired</th>
        </tr>
      </thead>
      <tbody>
        ${Object.entries(status.objects).map(
          ([kind, c]) =>
            html`<tr>
              <td>${kind}</td>
              <td>${c.total}</td>
              <td>${c.api}</td>
              <td>${c.retired}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p class=${status.drift.length ? 'warn' : 'muted'}>
      Drift: ${status.drift.length === 0 ? 'none' : status.drift.map((d) => `${d.kind}/${d.name}`).join(', ')}
    </p>
  </div>`;
}

/** Every schedule's next firings, merged and soonest first, in the schedule's zone and the viewer's. */
function Timeline({ schedules }: { schedules: ScheduleView[] }) {
  const firings = schedules
    .flatMap((s) => s.nextFirings.map((f) => ({ ...f, schedule: s, zone: s.timezone })))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(0, 20);
  if (firings.length === 0) return html`<p class="muted">No schedule fires.</p>`;
  return html`<table id="timeline">
    <thead>
      <tr>
        <th>When</th>
        <th>Schedule's time</th>
        <th>Your time (${viewerZone})</th>
        <th>Schedule</th>
        <th>Fires</th>
      </tr>
    </thead>
    <tbody>
      ${firings.map(
        (f) =>
          html`<tr>
            <td>${relative(f.at)}</td>
            <td class="zone-time">${f.local}</td>
            <td>${inZone(f.at)}</td>
            <td><a href="#/schedules">${f.schedule.name}</a></td>
            <td>
              ${f.schedule.tasks.length ? f.schedule.tasks.map((t, i) => html`${i ? ', ' : ''}${taskLink(t)}`) : html`<span class="muted">no task</span>`}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function TaskList({ tasks, total }: { tasks: TaskView[]; total: number }) {
  const shown = tasks.slice(0, TASKS_SHOWN);
  return html`<table id="overview-tasks">
      <thead>
        <tr>
          <th>Task</th>
          <th>Action</th>
          <th>Target</th>
          <th>State</th>
          <th>Next firing</th>
          <th>Last run</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (t) =>
            html`<tr key=${t.name}>
              <td>${taskLink(t.name)}</td>
              <td>${t.spec ? `${t.spec.objectType} ${t.spec.action}` : '—'}</td>
              <td>${targetText(t.spec?.target)}</td>
              <td>
                <${Badge}
                  status=${t.retired ? 'retired' : t.spec?.enabled === false ? 'disabled' : 'enabled'}
                />
              </td>
              <td><${When} at=${t.nextFirings?.[0]} /></td>
              <td>
                ${t.lastRun ? html`<${Badge} status=${t.lastRun.status} /> ${relative(t.lastRun.queuedAt)}` : html`<span class="muted">never</span>`}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${total > shown.length ? html`<p><a href="#/tasks">All ${total} tasks</a></p>` : null}`;
}

export function Overview() {
  const status = useApi<StatusView>('/api/v1/status');
  const schedules = useApi<{ schedules: ScheduleView[] }>('/api/v1/schedules?count=3');
  const tasks = useApi<{ tasks: TaskView[]; total?: number }>(`/api/v1/tasks?limit=${TASKS_SHOWN}`);
  const failures = useApi<{ runs: RunSummary[] }>('/api/v1/runs?status=failed&limit=10');
  const ready = status.data && schedules.data && tasks.data && failures.data;
  useEffect(() => {
    // For the first-paint bench: the overview with its data on screen.
    if (ready) performance.mark('overview-ready');
  }, [ready]);
  const s = status.data;
  return html`
    <h1>Overview</h1>
    <${Problem} error=${status.error ?? schedules.error ?? tasks.error ?? failures.error} />
    ${
      s
        ? html`<div class="cards">
            <div class="card" id="revision">
              <h3>Applied revision</h3>
              <p class="big">
                <code title=${s.appliedRevision ?? ''}>${shortRevision(s.appliedRevision)}</code>
              </p>
              <p class="muted small">applied <${When} at=${s.appliedAt} /></p>
            </div>
            <${SyncCard} status=${s} />
            <${Counts} status=${s} />
          </div>`
        : null
    }
    <${Section} title="Next firings" id="next-firings">
      ${schedules.data ? html`<${Timeline} schedules=${schedules.data.schedules} />` : html`<p class="muted">Loading…</p>`}
    </${Section}>
    <${Section} title="Tasks">
      ${tasks.data ? html`<${TaskList} tasks=${tasks.data.tasks} total=${tasks.data.total ?? tasks.data.tasks.length} />` : html`<p class="muted">Loading…</p>`}
    </${Section}>
    <${Section} title="Recent failures" id="failures">
      ${failures.data ? html`<${RunsTable} runs=${failures.data.runs} empty="No failed runs." />` : null}
    </${Section}>
  `;
}
