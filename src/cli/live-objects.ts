import type { Kind } from '../manifest/types.js';
import { KINDS } from '../manifest/types.js';
import type { LiveObject, RunRecord } from '../store/types.js';
import { openReadOnlyStore } from './data-dir.js';
import { CliError, EXIT } from './exit.js';
import { callServer } from './http-client.js';
import { closest } from '../manifest/suggest.js';
import { KIND_CHOICES } from './commands/option-values.js';

/** What get and describe read: the live objects and recent runs, from the data dir or a running serve. */
export interface LiveView {
  objects: LiveObject[];
  runsOf(task: string, limit: number): Promise<RunRecord[]>;
  /** Where the objects came from, for messages: `the live state of ./.taskops` or `http://…`. */
  where: string;
  close(): Promise<void>;
}

export async function liveView(
  dataDir: string,
  server: string | undefined,
  tokenFile: string | undefined,
  /** A PostgreSQL store's URL (store.ts), read instead of the data dir's SQLite file. */
  storeUrl: string | null = null,
): Promise<LiveView> {
  if (server) {
    const { data } = await callServer<{ objects: LiveObject[] }>(server, 'GET', '/api/v1/objects', {
      tokenFile,
    });
    return {
      objects: data.objects,
      where: server,
      runsOf: async (task, limit) =>
        (
          await callServer<{ runs: RunRecord[] }>(
            server,
            'GET',
            `/api/v1/runs?${new URLSearchParams({ task, limit: String(limit) })}`,
            { tokenFile },
          )
        ).data.runs,
      close: async () => undefined,
    };
  }
  const store = await openReadOnlyStore(dataDir, storeUrl);
  try {
    return {
      objects: await store.listObjects(),
      where: `the live state of ${dataDir}`,
      runsOf: (task, limit) => store.listRuns({ task, limit }),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The words `get` and `describe` take for a kind: plural, singular, any case, `triggers` for EventTrigger. */
const KIND_WORDS: Record<string, Kind> = {
  tasks: 'Task',
  task: 'Task',
  schedules: 'Schedule',
  schedule: 'Schedule',
  triggers: 'EventTrigger',
  trigger: 'EventTrigger',
  eventtriggers: 'EventTrigger',
  eventtrigger: 'EventTrigger',
  webhooks: 'Webhook',
  webhook: 'Webhook',
  tags: 'Tag',
  tag: 'Tag',
};

export function parseKind(word: string): Kind {
  const kind = KIND_WORDS[word.toLowerCase()];
  if (kind) return kind;
  const hint = closest(word, [...Object.keys(KIND_WORDS), ...KINDS]);
  const fix = hint ? ` (did you mean ${hint}?)` : '';
  throw new CliError(
    `${JSON.stringify(word)} is not a kind: use one of ${KIND_CHOICES.join(', ')}${fix}`,
    EXIT.usage,
  );
}
