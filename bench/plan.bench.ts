/**
 * Plan and apply at scale: 10,000 live objects with 1% changed (diff + each renderer), 10,000 creates
 * applied into a fresh SQLite store (goal < 0.5 s), and loading + validating 10,000 manifests from disk.
 * Run: npx tsx bench/plan.bench.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadDesiredState } from '../src/manifest/index.js';
import type { DesiredState, LoadedManifest } from '../src/manifest/types.js';
import { apply, asLive, diff, renderJson, renderMarkdown, renderText } from '../src/reconcile/index.js';
import { openStore } from '../src/store/index.js';

const OBJECTS = 10_000;
const CHANGED_SHARE = 0.01;
const ROUNDS = 5;

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** A normalized webhook task, as the loader hands it over. */
function task(i: number, payload: string): LoadedManifest {
  return {
    apiVersion: 'taskops/v1',
    kind: 'Task',
    metadata: { name: `task-${String(i).padStart(5, '0')}`, labels: { team: `team-${i % 20}` } },
    spec: {
      enabled: true,
      objectType: 'webhook',
      target: { name: 'hook' },
      action: 'send',
      params: { payload },
      schedules: [],
      deleteAfterRun: false,
      timeoutSeconds: 300,
      concurrency: 'forbid',
    },
    source: { file: 'tasks.yaml', line: 1, col: 1 },
  };
}

/** Every object, with every `changedEvery`-th payload changed (0: none). */
function state(revision: string, changedEvery: number): DesiredState {
  const changed = (i: number) => changedEvery > 0 && i % changedEvery === 0;
  const manifests = Array.from({ length: OBJECTS }, (_, i) =>
    task(i, changed(i) ? `{"text": "changed ${i} \${NAME}"}` : `{"text": "hello ${i} \${NAME}"}`),
  );
  return { revision, manifests };
}

function benchPlan() {
  const live = asLive(state('base', 0));
  const desired = state('head', Math.round(1 / CHANGED_SHARE));
  const diffMs: number[] = [];
  const textMs: number[] = [];
  const jsonMs: number[] = [];
  const markdownMs: number[] = [];
  let updates = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const [plan, d] = timed(() => diff(desired, live));
    updates = plan.summary.update;
    diffMs.push(d);
    textMs.push(timed(() => renderText(plan))[1]);
    jsonMs.push(timed(() => renderJson(plan))[1]);
    markdownMs.push(timed(() => renderMarkdown(plan))[1]);
  }
  return {
    updates,
    diffMs: median(diffMs),
    textMs: median(textMs),
    jsonMs: median(jsonMs),
    markdownMs: median(markdownMs),
  };
}

async function benchApply() {
  const plan = diff(state('r1', 0), []);
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const dir = mkdtempSync(join(os.tmpdir(), 'taskops-bench-'));
    const store = await openStore(dir);
    times.push((await timedAsync(() => apply(plan, store, { at: new Date(), dataDir: dir })))[1]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { creates: plan.summary.create, applyMs: median(times) };
}

/** Parse + schema + semantics + references of 10,000 manifests in 100 files, through the real loader. */
async function benchLoad() {
  const dir = mkdtempSync(join(os.tmpdir(), 'taskops-bench-load-'));
  try {
    writeFileSync(
      join(dir, 'webhook.yaml'),
      'apiVersion: taskops/v1\nkind: Webhook\nmetadata: {name: hook}\nspec:\n  urlFrom: {env: HOOK_URL}\n',
    );
    const perFile = OBJECTS / 100;
    for (let f = 0; f < 100; f++) {
      const docs = Array.from({ length: perFile }, (_, k) => {
        const i = f * perFile + k;
        return `apiVersion: taskops/v1\nkind: Task\nmetadata: {name: task-${i}}\nspec:\n  objectType: webhook\n  target: {name: hook}\n  action: send\n  params: {payload: '{"text": "hello ${i} \${NAME}"}'}\n`;
      });
      writeFileSync(join(dir, `tasks-${f}.yaml`), docs.join('---\n'));
    }
    const [result, ms] = await timedAsync(() => loadDesiredState(dir, { revision: 'bench' }));
    if (!result.state) throw new Error(`bench manifests are invalid: ${result.problems[0]?.message}`);
    return { loaded: result.state.manifests.length, loadMs: ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const plan = benchPlan();
console.log(
  `diff of ${OBJECTS} live objects, ${plan.updates} changed: ${round(plan.diffMs)} ms (median of ${ROUNDS})`,
);
console.log(
  `render: text ${round(plan.textMs)} ms, json ${round(plan.jsonMs)} ms, markdown ${round(plan.markdownMs)} ms`,
);
const applied = await benchApply();
console.log(
  `apply of ${applied.creates} creates into a fresh SQLite store: ${round(applied.applyMs)} ms (goal < 500 ms)`,
);
const load = await benchLoad();
console.log(`load + validate of ${load.loaded} manifests: ${round(load.loadMs)} ms`);
console.log(
  JSON.stringify({
    bench: 'plan',
    objects: OBJECTS,
    changed: plan.updates,
    diffMs: round(plan.diffMs),
    renderTextMs: round(plan.textMs),
    renderJsonMs: round(plan.jsonMs),
    renderMarkdownMs: round(plan.markdownMs),
    applyCreates: applied.creates,
    applyMs: round(applied.applyMs),
    applyGoalMet: applied.applyMs < 500,
    loadManifests: load.loaded,
    loadMs: round(load.loadMs),
    cpus: os.cpus().length,
    node: process.version,
  }),
);
