import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

let work: { dir: string; cleanup: () => void } | undefined;
let server: ServeProcess | undefined;
afterEach(async () => {
  await server?.kill('SIGKILL');
  work?.cleanup();
  server = work = undefined;
});

const SCHEDULES = 3_000;

/** A gauge of serve's /metrics (prom-client's default process metrics), in bytes. */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  if (!found) throw new Error(`no ${line} in /metrics`);
  return Number(found.slice(line.length).trim());
}

describe('serve’s heap', () => {
  it('keeps the young generation at its initial size through start-up and a sync of 3,000 schedules', async () => {
    work = tempDir('taskops-serve-heap-');
    const manifests = path.join(work.dir, 'manifests');
    mkdirSync(manifests);
    const names = Array.from({ length: SCHEDULES }, (_, i) => `s-${i}`);
    // A file holds at most 1,000 documents. Firings far ahead: nothing runs during the test.
    for (let f = 0; f * 1000 < SCHEDULES; f++) {
      const part = names.slice(f * 1000, (f + 1) * 1000);
      const at = (i: number) => new Date(Date.UTC(2099, 0, 1, 0, f * 1000 + i)).toISOString();
      writeFileSync(
        path.join(manifests, `schedules-${f}.yaml`),
        docs(...part.map((name, i) => doc('Schedule', name, { once: at(i) }))),
      );
    }
    writeFileSync(
      path.join(manifests, 'task.yaml'),
      docs(
        doc('Webhook', 'hook', { url: 'http://127.0.0.1:9/never' }),
        doc('Task', 't', {
          objectType: 'webhook',
          target: { name: 'hook' },
          action: 'send',
          params: { payload: { text: 'never sent' } },
          schedules: names,
        }),
      ),
    );
    server = await startServe({
      globalArgs: ['--data-dir', path.join(work.dir, 'data')],
      serveArgs: [manifests],
    });
    const listed = (await (await fetch(`${server.url}/api/v1/schedules`)).json()) as { schedules: unknown[] };
    expect(listed.schedules, server.output()).toHaveLength(SCHEDULES);
    const newSpace = await metric(
      server.url,
      'taskops_process_nodejs_heap_space_size_total_bytes{space="new"}',
    );
    // 1 MB semi-spaces (2 MB of new space); V8's default grows them to 16 MB under start-up's allocations.
    expect(newSpace).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
