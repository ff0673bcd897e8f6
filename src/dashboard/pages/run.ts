import { useEffect } from 'preact/hooks';
import { ReplayButton } from '../actions.js';
import { Badge, link, Problem, taskLink, triggerText, When } from '../components.js';
import { attemptCount, duration } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../hooks.js';
import type { RunSummary } from '../types.js';

interface Attempt {
  attempt?: number;
  at?: string;
  status?: number | string;
  error?: string;
  durationMs?: number;
}

const UNFINISHED = new Set(['queued', 'delayed', 'running']);

/** Per-attempt outcomes: the webhook driver's `details.attempts`, or a state machine's `attempts` list. */
function attemptsOf(run: RunSummary): Attempt[] {
  const details = run.details as { attempts?: unknown } | null | undefined;
  if (Array.isArray(details?.attempts)) return details.attempts as Attempt[];
  return Array.isArray(run.attempts) ? (run.attempts as Attempt[]) : [];
}

function Output({ details }: { details: unknown }) {
  const d = details as {
    argv?: string[];
    exitCode?: number | null;
    signal?: string | null;
    stdout?: string;
    stderr?: string;
  } | null;
  if (!d || (d.stdout === undefined && d.stderr === undefined && !d.argv)) return null;
  return html`<section id="command-output">
    <h2>Command</h2>
    ${d.argv ? html`<p><code>${d.argv.join(' ')}</code></p>` : null}
    <p>Exit code ${d.exitCode ?? '—'}${d.signal ? ` · signal ${d.signal}` : ''}</p>
    ${
      d.stdout
        ? html`<h3>stdout</h3>
            <pre>${d.stdout}</pre>`
        : null
    }
    ${
      d.stderr
        ? html`<h3>stderr</h3>
            <pre>${d.stderr}</pre>`
        : null
    }
  </section>`;
}

/** One run: its trigger, outcome, every attempt, its error and the driver's output. */
export function RunDetail({ id }: { id: string }) {
  const loaded = useApi<{ run: RunSummary }>(`/api/v1/runs/${encodeURIComponent(id)}`);
  const run = loaded.data?.run;
  useEffect(() => {
    // Until the run ends, look again: its attempts and output arrive as it goes.
    if (!run || !UNFINISHED.has(run.status)) return;
    const timer = setTimeout(loaded.reload, 1000);
    return () => clearTimeout(timer);
  }, [run]);
  if (!run)
    return html`<h1>Run ${id}</h1>
      <${Problem} error=${loaded.error} />`;
  const attempts = attemptsOf(run);
  return html`
    <h1>Run <code>${run.runId}</code> <${Badge} status=${run.status} /></h1>
    ${
      // A failed webhook delivery can be sent again, with the same webhook-id and body.
      run.delivery && run.status === 'failed' ? html`<p><${ReplayButton} runId=${run.runId} /></p>` : null
    }
    <dl class="facts">
      <dt>Task</dt>
      <dd>${taskLink(run.task)}</dd>
      <dt>Trigger</dt>
      <dd>
        ${
          run.trigger.kind === 'replay' && run.trigger.name
            ? html`replay of ${link(`#/runs/${encodeURIComponent(run.trigger.name)}`, run.trigger.name)}`
            : triggerText(run.trigger)
        }${run.trigger.event ? ` (event ${run.trigger.event})` : ''}
      </dd>
      <dt>Target</dt>
      <dd>${run.target ? `${run.target.objectType} ${run.target.name ?? ''}` : '—'}</dd>
      <dt>Queued</dt>
      <dd><${When} at=${run.queuedAt} /></dd>
      <dt>Started</dt>
      <dd><${When} at=${run.startedAt} /></dd>
      <dt>Finished</dt>
      <dd><${When} at=${run.finishedAt} /></dd>
      <dt>Duration</dt>
      <dd>${duration(run.durationMs)}</dd>
      <dt>Attempts</dt>
      <dd>${attemptCount(run.attempts)}</dd>
    </dl>
    ${
      run.error
        ? html`<section>
            <h2>Error</h2>
            <pre class="error-text" id="run-error">${run.error}</pre>
          </section>`
        : null
    }
    ${
      attempts.length
        ? html`<section id="attempts">
            <h2>Attempts</h2>
            <table class="compact">
              <thead>
                <tr>
                  <th>#</th>
                  <th>At</th>
                  <th>Answer</th>
                  <th>Duration</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                ${attempts.map(
                  (a, i) =>
                    html`<tr>
                      <td>${a.attempt ?? i + 1}</td>
                      <td><${When} at=${a.at} /></td>
                      <td>${a.status !== undefined ? `HTTP ${a.status}` : 'no answer'}</td>
                      <td>${duration(a.durationMs)}</td>
                      <td class="error-text">${a.error ?? ''}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </section>`
        : null
    }
    <${Output} details=${run.details} />
  `;
}
