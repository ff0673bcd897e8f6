import { useState } from 'preact/hooks';
import { send } from '../api.js';
import { Badge, Problem, RunsTable, Section, SourceRef, When } from '../components.js';
import { targetText } from '../format.js';
import { html } from '../html.js';
import { useApi, useRunStream } from '../hooks.js';
import type { ObjectView, RunSummary, TaskView } from '../types.js';

/** One task: what it does, what fires it, its recent runs (live), and Run now. */
export function TaskPage({ name }: { name: string }) {
  const tasks = useApi<{ tasks: TaskView[] }>('/api/v1/tasks');
  const objects = useApi<{ objects: ObjectView[] }>('/api/v1/objects?kind=Task');
  const { runs, live } = useRunStream(`task=${encodeURIComponent(name)}&limit=25`, 25);
  const [action, setAction] = useState<{ busy: boolean; message: string | null; error: string | null }>({
    busy: false,
    message: null,
    error: null,
  });
  const task = tasks.data?.tasks.find((t) => t.name === name);
  const object = objects.data?.objects.find((o) => o.name === name);

  const runNow = () => {
    setAction({ busy: true, message: null, error: null });
    send<{ runs: RunSummary[] }>('POST', `/api/v1/tasks/${encodeURIComponent(name)}/run`, {}).then(
      (r) => setAction({ busy: false, message: `Queued ${r.runs.length} run(s).`, error: null }),
      (err: Error) => setAction({ busy: false, message: null, error: err.message }),
    );
  };

  if (tasks.data && !task)
    return html`<h1>Task ${name}</h1>
      <p class="error">No task ${name} in the live state.</p>`;
  const spec = task?.spec;
  return html`
    <h1>Task ${name} <${SourceRef} source=${task?.source ?? object?.source} /></h1>
    <${Problem} error=${tasks.error} />
    ${object?.metadata.description ? html`<p>${object.metadata.description}</p>` : null}
    ${
      task
        ? html`<dl class="facts">
            <dt>State</dt>
            <dd>
              <${Badge}
                status=${task.retired ? 'retired' : spec?.enabled === false ? 'disabled' : 'enabled'}
              />
            </dd>
            <dt>Action</dt>
            <dd>${spec ? `${spec.objectType} ${spec.action}` : '—'}</dd>
            <dt>Target</dt>
            <dd>${targetText(spec?.target)}</dd>
            <dt>Schedules</dt>
            <dd>${(spec?.schedules ?? []).join(', ') || '—'}</dd>
            <dt>Event triggers</dt>
            <dd>${(task.triggers ?? []).join(', ') || '—'}</dd>
            <dt>Next firing</dt>
            <dd><${When} at=${task.nextFirings?.[0]} /></dd>
            <dt>Concurrency</dt>
            <dd>
              ${spec?.concurrency ?? 'forbid'}${spec?.deleteAfterRun ? ' · retired after its first success' : ''}
            </dd>
          </dl>`
        : null
    }
    ${
      task && !task.retired
        ? html`<p>
              <button id="run-now" class="primary" disabled=${action.busy} onClick=${runNow}>Run now</button>
              ${action.message ? html` <span class="ok">${action.message}</span>` : null}
            </p>
            <${Problem} error=${action.error} />`
        : null
    }
    <${Section} title=${`Recent runs${live ? ' · live' : ''}`} id="task-runs">
      <${RunsTable} runs=${runs} empty="No runs yet." />
    </${Section}>
  `;
}
