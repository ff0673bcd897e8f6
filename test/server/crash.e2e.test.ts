import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { freePort, startServe, type ServeProcess } from '../helpers/serve-process.js';

let work: { dir: string; cleanup: () => void };
let server: ServeProcess | undefined;
afterEach(async () => {
  await server?.kill('SIGKILL');
  work?.cleanup();
});

const ROUNDS = 4;

describe('durability across kill -9', () => {
  it('processes every accepted event after restarts; only runs cut off mid-action repeat', async () => {
    work = tempDir('taskops-crash-');
    const manifests = path.join(work.dir, 'manifests');
    const records = path.join(work.dir, 'records.txt');
    const configFile = path.join(work.dir, 'taskops.config.yaml');
    (await import('node:fs')).mkdirSync(manifests);
    // The action takes ~150 ms, so kills land both between runs and in the middle of one.
    writeFileSync(
      configFile,
      [
        'maxConcurrentRuns: 4',
        'drivers:',
        '  jobs:',
        '    type: command',
        '    actions:',
        `      record: [node, -e, "setTimeout(() => require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\\\n'), 150)", ${JSON.stringify(records)}, "\${FIELD_n}"]`,
      ].join('\n') + '\n',
    );
    writeFileSync(
      path.join(manifests, 'm.yaml'),
      docs(
        doc('Task', 'record', {
          objectType: 'jobs',
          target: { name: 'obj' },
          action: 'record',
          concurrency: 'allow',
        }),
        doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['record'] }),
      ),
    );
    const dataDir = path.join(work.dir, 'data');
    const port = await freePort();
    const start = () =>
      startServe({
        globalArgs: ['--data-dir', dataDir, '--config', configFile],
        serveArgs: [manifests],
        port,
      });

    const accepted = new Map<string, number>(); // event id → n
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      server = await start();
      const url = server.url;
      const posting = (async () => {
        for (let i = 0; i < 40; i++) {
          const my = ++n;
          try {
            const res = await fetch(`${url}/api/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ type: 'jobs', name: 'go', fields: { n: my } }),
            });
            if (res.status === 202) accepted.set(((await res.json()) as { id: string }).id, my);
          } catch {
            return; // the server is gone: this request was never accepted
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      await new Promise((r) => setTimeout(r, 200 + round * 150));
      await server.kill('SIGKILL');
      await posting;
    }
    server = await start();
    const url = server.url;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${url}/api/v1/runs?status=queued,running&limit=1`);
      const { runs } = (await res.json()) as { runs: unknown[] };
      const finished = readTaskLogs(dataDir).filter((l) => l.status === 'succeeded').length;
      if (runs.length === 0 && finished >= accepted.size) break;
      if (Date.now() > deadline) throw new Error('runs did not finish after the last restart');
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(accepted.size).toBeGreaterThan(20);
    const logs = readTaskLogs(dataDir);
    for (const [eventId] of accepted) {
      const runs = logs.filter((l) => l.trigger.event === eventId);
      expect(
        runs.some((l) => l.status === 'succeeded'),
        `event ${eventId} has a succeeded run`,
      ).toBe(true);
    }
    const interruptedEvents = new Set(
      logs.filter((l) => l.status === 'interrupted').map((l) => l.trigger.event),
    );
    const counts = new Map<string, number>();
    const lines = existsSync(records) ? readFileSync(records, 'utf8').trim().split('\n') : [];
    for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const [eventId, value] of accepted) {
      const times = counts.get(String(value)) ?? 0;
      expect(times, `event n=${value} acted on`).toBeGreaterThanOrEqual(1);
      if (times > 1)
        expect(interruptedEvents.has(eventId), `n=${value} repeated without an interruption`).toBe(true);
    }
  }, 90_000);
});
