/**
 * CLI start-up, process start to exit (what a script, CI step or shell prompt pays): `taskops --version`,
 * `taskops --help` and `taskops validate examples`, each the median of several spawns of bin/taskops.js after
 * one warm-up, beside a bare `node -e ''` (the floor: node's own start) measured interleaved with them, so a
 * busy moment of the machine costs every figure alike. Run after `npx tsc` (bin/ runs dist/).
 * Run: npx tsx bench/cli.bench.ts   Env: BENCH_ITERATIONS (default 15).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goal, printResult } from './lib/report.js';
import { median, round } from './lib/stats.js';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);

/** What is timed, and the goal for it (none for the floor). */
const CASES = {
  bareNode: { args: ['-e', ''], goalMs: null },
  version: { args: ['bin/taskops.js', '--version'], goalMs: 150 },
  help: { args: ['bin/taskops.js', '--help'], goalMs: 150 },
  validate: { args: ['bin/taskops.js', 'validate', 'examples'], goalMs: 300 },
} as const;
type Case = keyof typeof CASES;

function timed(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const names = Object.keys(CASES) as Case[];
const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Case, number[]>;
for (const n of names) timed(CASES[n].args);
// Round-robin: one spawn of each case per round, so load that comes and goes lands on all of them.
for (let i = 0; i < ITERATIONS; i++) for (const n of names) samples[n].push(timed(CASES[n].args));
const ms = Object.fromEntries(names.map((n) => [n, round(median(samples[n]))])) as Record<Case, number>;

printResult(
  'cli',
  {
    versionMs: ms.version,
    helpMs: ms.help,
    validateExamplesMs: ms.validate,
    bareNodeMs: ms.bareNode,
    loadAverage: os.loadavg().map((l) => round(l)),
    iterations: ITERATIONS,
  },
  [
    goal('taskops --version', ms.version, '<=', CASES.version.goalMs, ' ms'),
    goal('taskops --help', ms.help, '<=', CASES.help.goalMs, ' ms'),
    goal('taskops validate examples', ms.validate, '<=', CASES.validate.goalMs, ' ms'),
  ],
);
