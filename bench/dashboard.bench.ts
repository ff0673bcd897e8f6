// The Tasks Dashboard's overview with 1,000 tasks (and 20 schedules, 100 event triggers) in headless
// Chromium against a real `taskops serve`: first contentful paint, the overview on screen with its data
// (the page's `overview-ready` mark), and the bytes the load transferred. Goal: on screen in < 500 ms.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { countTransfer, launchChromium } from '../test/helpers/browser.js';
import { startServe } from '../test/helpers/serve-process.js';
import { goal, printResult } from './lib/report.js';
import { median, round } from './lib/stats.js';
import { tempDir } from './lib/tempdir.js';

const TASKS = 1000;
const SCHEDULES = 20;
const TRIGGERS = 100;
const ROUNDS = 7;

const doc = (kind: string, name: string, spec: unknown) =>
  stringify({
    apiVersion: 'taskops/v1',
    kind,
    metadata: { name, description: `bench ${kind} ${name}` },
    spec,
  });

function writeWorld(dir: string): { config: string; manifests: string } {
  const manifests = path.join(dir, 'manifests');
  const docs: string[] = [];
  for (let s = 0; s < SCHEDULES; s++) {
    docs.push(doc('Schedule', `sched-${s}`, { timezone: 'America/New_York', cron: `${s} 18 * * 5` }));
  }
  for (let t = 0; t < TASKS; t++) {
    docs.push(
      doc('Task', `task-${String(t).padStart(4, '0')}`, {
        objectType: 'jobs',
        target: { name: `vm-${t}` },
        action: 'ok',
        schedules: [`sched-${t % SCHEDULES}`],
      }),
    );
  }
  for (let e = 0; e < TRIGGERS; e++) {
    docs.push(
      doc('EventTrigger', `trigger-${e}`, {
        event: { type: 'users', name: `login-${e}` },
        tasks: [`task-${String(e).padStart(4, '0')}`],
      }),
    );
  }
  mkdirSync(manifests, { recursive: true });
  // A file holds at most 1,000 documents: 100 per file.
  for (let f = 0; f * 100 < docs.length; f++) {
    writeFileSync(path.join(manifests, `world-${f}.yaml`), docs.slice(f * 100, f * 100 + 100).join('---\n'));
  }
  const config = path.join(dir, 'taskops.config.yaml');
  writeFileSync(
    config,
    stringify({ drivers: { jobs: { type: 'command', actions: { ok: ['node', '-e', '0'] } } } }),
  );
  return { config, manifests };
}

const dir = tempDir('taskops-bench-dashboard-');
const world = writeWorld(dir);
const serve = await startServe({
  globalArgs: ['--config', world.config, '--data-dir', path.join(dir, 'data')],
  serveArgs: [world.manifests],
});
// serve answers before its first sync has applied the manifests: wait for the whole world.
for (let waited = 0; ; waited += 200) {
  const { tasks } = (await (await fetch(`${serve.url}/api/v1/tasks`)).json()) as { tasks: unknown[] };
  if (tasks.length === TASKS) break;
  if (waited > 60_000) throw new Error(`serve shows ${tasks.length} of ${TASKS} tasks:\n${serve.output()}`);
  await new Promise((r) => setTimeout(r, 200));
}
const browser = await launchChromium();
const paints: number[] = [];
const ready: number[] = [];
const bytes: number[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    // A fresh profile each round: nothing cached, as for a first visit.
    const context = await browser.newContext();
    const page = await context.newPage();
    const transferred = countTransfer(page);
    await page.goto(serve.url);
    await page.waitForFunction(() => performance.getEntriesByName('overview-ready').length > 0, null, {
      timeout: 30_000,
    });
    await page.waitForLoadState('networkidle');
    const t = await page.evaluate(() => ({
      paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      ready: performance.getEntriesByName('overview-ready')[0]!.startTime,
    }));
    if ((await page.locator('#overview-tasks tbody tr').count()) === 0)
      throw new Error('the overview shows no tasks');
    paints.push(t.paint);
    ready.push(t.ready);
    bytes.push(transferred());
    await context.close();
  }
} finally {
  await browser.close();
  await serve.kill('SIGTERM');
}
const readyMs = round(median(ready.slice(1)));
console.log(
  `overview with ${TASKS} tasks: first paint ${round(median(paints.slice(1)))} ms, on screen with data ${readyMs} ms ` +
    `(median of ${ROUNDS - 1} after one warm-up), ${round(median(bytes) / 1024, 1)} KB transferred`,
);
printResult(
  'dashboard',
  {
    tasks: TASKS,
    firstPaintMs: round(median(paints.slice(1))),
    overviewReadyMs: readyMs,
    readyRunsMs: ready.map((r) => round(r)),
    transferredKb: round(median(bytes) / 1024, 1),
  },
  [
    goal('overview on screen with 1,000 tasks', readyMs, '<=', 500, ' ms'),
    goal('overview transfer with 1,000 tasks', round(median(bytes) / 1024, 1), '<=', 200, ' KB'),
  ],
);
