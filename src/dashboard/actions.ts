import { useState } from 'preact/hooks';
import { send } from './api.js';
import { link, Problem } from './components.js';
import { html } from './html.js';
import type { RunSummary } from './types.js';

interface ActionState {
  busy: boolean;
  done: boolean;
  error: string | null;
}

/** One operational write behind a button: busy while it runs, then its outcome or its error. */
function useAction<T>(): [ActionState, (write: () => Promise<T>, then: (answer: T) => void) => void] {
  const [state, setState] = useState<ActionState>({ busy: false, done: false, error: null });
  const start = (write: () => Promise<T>, then: (answer: T) => void) => {
    setState({ busy: true, done: false, error: null });
    write().then(
      (answer) => {
        setState({ busy: false, done: true, error: null });
        then(answer);
      },
      (err: Error) => setState({ busy: false, done: false, error: err.message }),
    );
  };
  return [state, start];
}

/**
 * Re-sends a finished delivery (`POST /api/v1/runs/{id}/replay`): a new run with trigger `replay`, the
 * same webhook-id and body. `onReplayed` lets the page read its lists again.
 */
export function ReplayButton({ runId, onReplayed }: { runId: string; onReplayed?: () => void }) {
  const [state, start] = useAction<{ run: RunSummary }>();
  const [replay, setReplay] = useState<RunSummary | null>(null);
  const click = () =>
    start(
      () => send('POST', `/api/v1/runs/${encodeURIComponent(runId)}/replay`, {}),
      (answer) => {
        setReplay(answer.run);
        onReplayed?.();
      },
    );
  return html`<span class="action">
    <button class="replay" data-replay=${runId} disabled=${state.busy} onClick=${click}>Replay</button>
    ${
      replay
        ? html` <span class="ok"
            >Replay queued as ${link(`#/runs/${encodeURIComponent(replay.runId)}`, replay.runId)}</span
          >`
        : null
    }
    <${Problem} error=${state.error} />
  </span>`;
}

/**
 * Re-enables a Webhook its receiver disabled with 410 Gone (`POST /api/v1/webhooks/{name}/enable`); the page
 * says so once the alert holding this button is gone.
 */
export function ReenableButton({ webhook, onEnabled }: { webhook: string; onEnabled: () => void }) {
  const [state, start] = useAction<unknown>();
  const click = () =>
    start(() => send('POST', `/api/v1/webhooks/${encodeURIComponent(webhook)}/enable`, {}), onEnabled);
  return html`<span class="action">
    <button class="reenable" disabled=${state.busy} onClick=${click}>Re-enable</button>
    <${Problem} error=${state.error} />
  </span>`;
}
