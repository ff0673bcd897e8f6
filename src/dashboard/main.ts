import { render } from 'preact';
import { send } from './api.js';
import { html } from './html.js';
import { useApi, useRoute } from './hooks.js';
import { Logs } from './pages/logs.js';
import { Overview } from './pages/overview.js';
import { RunDetail } from './pages/run.js';
import { Schedules } from './pages/schedules.js';
import { Tags } from './pages/tags.js';
import { TaskPage } from './pages/task.js';
import { Tasks } from './pages/tasks.js';
import { Triggers } from './pages/triggers.js';
import { Webhooks } from './pages/webhooks.js';

const NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['tasks', 'Tasks'],
  ['schedules', 'Schedules'],
  ['triggers', 'Event triggers'],
  ['webhooks', 'Webhooks'],
  ['tags', 'Tags'],
  ['logs', 'Task logs'],
];

// Plain text: htm drops a space next to a line break beside an element, which prettier puts anywhere.
const READ_ONLY =
  'Read-only view of the live state. Configuration lives in git: change the manifests and commit; ' +
  'this dashboard never edits it. Its only writes are operational actions: Run now, Replay a failed ' +
  'delivery and Re-enable a webhook its receiver disabled.';

function Page({ parts, query }: { parts: string[]; query: URLSearchParams }) {
  const [section, name] = parts;
  switch (section) {
    case undefined:
      return html`<${Overview} />`;
    case 'tasks':
      return name ? html`<${TaskPage} name=${name} />` : html`<${Tasks} />`;
    case 'schedules':
      return html`<${Schedules} />`;
    case 'triggers':
      return html`<${Triggers} />`;
    case 'webhooks':
      return html`<${Webhooks} />`;
    case 'tags':
      return html`<${Tags} />`;
    case 'logs':
      return html`<${Logs} query=${query} />`;
    case 'runs':
      return name ? html`<${RunDetail} id=${name} />` : html`<${Logs} query=${query} />`;
    default:
      return html`<p class="error">No page ${section}. <a href="#/">Back to the overview</a></p>`;
  }
}

function App() {
  const route = useRoute();
  const session = useApi<{ tokenRequired: boolean }>('/api/v1/session');
  const current = route.parts[0] === 'runs' ? 'logs' : (route.parts[0] ?? '');
  const logout = () => void send('DELETE', '/api/v1/session').finally(() => location.reload());
  return html`
    <header class="top">
      <a class="brand" href="#/">taskops</a>
      <nav>
        ${NAV.map(
          ([path, label]) =>
            html`<a href=${`#/${path}`} class=${current === path ? 'active' : ''}>${label}</a>`,
        )}
      </nav>
      ${session.data?.tokenRequired ? html`<button class="link" onClick=${logout}>Log out</button>` : null}
    </header>
    <p class="readonly" role="note">${READ_ONLY}</p>
    <main><${Page} ...${route} /></main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
