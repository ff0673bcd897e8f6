/**
 * The run queue's line at 10k, 100k and 200k waiting jobs: time per job to drain it, through the RunQueue
 * (one slot, a driver that resolves at once) and for the line alone, beside Array.shift (the line before).
 * Run: npx tsx bench/queue.bench.ts
 */
import { LazyAbortController } from '../src/engine/runs/abort.js';
import { Deque } from '../src/engine/runs/deque.js';
import { RunQueue, type Job } from '../src/engine/runs/queue.js';
import { goal, printResult } from './lib/report.js';
import { collectGarbage, round } from './lib/stats.js';

const SIZES = [10_000, 100_000, 200_000];

function job(i: number): Job {
  return {
    run: { runId: `run-${i}` } as Job['run'],
    spec: {} as Job['spec'],
    event: null,
    key: `task-${i}`,
    policy: 'allow',
    controller: new LazyAbortController(),
    claimFrom: 'queued',
  };
}

/** µs per job to take `n` jobs off a line of `n`. */
function drainLine(n: number, line: { push(j: Job): void; shift(): Job | undefined }): number {
  for (let i = 0; i < n; i++) line.push(job(i));
  collectGarbage();
  const started = performance.now();
  while (line.shift() !== undefined);
  return ((performance.now() - started) * 1000) / n;
}

/** µs per job for a RunQueue with one slot to execute `n` jobs queued at once. */
async function drainQueue(n: number): Promise<number> {
  const queue = new RunQueue(
    1,
    async () => undefined,
    (_job, err) => {
      throw err;
    },
  );
  const jobs = Array.from({ length: n }, (_, i) => job(i));
  // The first one takes the slot; the rest wait in the line.
  for (const j of jobs) {
    queue.reserve(j);
    queue.commit(j);
  }
  collectGarbage();
  const started = performance.now();
  await queue.whenIdle();
  return ((performance.now() - started) * 1000) / n;
}

async function main(): Promise<void> {
  const figures: Record<string, number> = {};
  for (const n of SIZES) {
    const k = `${n / 1000}k`;
    figures[`arrayShiftUsPerJob${k}`] = round(drainLine(n, [] as Job[]), 3);
    figures[`dequeUsPerJob${k}`] = round(drainLine(n, new Deque<Job>()), 3);
    figures[`runQueueUsPerJob${k}`] = round(await drainQueue(n), 3);
    console.log(
      `  ${k} waiting: Array.shift ${figures[`arrayShiftUsPerJob${k}`]} µs/job, deque ${figures[`dequeUsPerJob${k}`]} µs/job, RunQueue ${figures[`runQueueUsPerJob${k}`]} µs/job`,
    );
  }
  // O(1): the cost per job at 200k is about the cost at 10k.
  const growth = figures.runQueueUsPerJob200k! / figures.runQueueUsPerJob10k!;
  printResult('queue', { ...figures, runQueueGrowth10kTo200k: round(growth) }, [
    goal('runQueueGrowth10kTo200k', round(growth), '<=', 2, 'x'),
  ]);
}

await main();
