/**
 * `taskops --version` wall time, process start to exit (what a script or shell prompt pays): the median of
 * several spawns of bin/taskops.js after one warm-up, against a bare `node -e ''` in the same run.
 * Run: npx tsx bench/cli.bench.ts   Env: BENCH_ITERATIONS (default 15).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goal, printResult } from './lib/report.js';
import { median, round } from './lib/stats.js';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);
const GOAL_MS = 200;

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function medianOf(args: string[]): number {
  timed(args);
  return median(Array.from({ length: ITERATIONS }, () => timed(args)));
}

const node = medianOf(['-e', '']);
const version = medianOf(['bin/taskops.js', '--version']);
printResult('cli', { versionMs: round(version), bareNodeMs: round(node), iterations: ITERATIONS }, [
  goal('taskops --version', round(version), '<=', GOAL_MS, ' ms'),
]);
