/**
 * CLI start-up, process start to exit (what a script, CI step or shell prompt pays): `taskops --version`,
 * `taskops --help` and `taskops validate examples`, each the median of several spawns of bin/taskops.js after
 * one warm-up, beside a bare `node -e ''` (the floor: node's own start) measured interleaved with them, so a
 * busy moment of the machine costs every figure alike. CPU time (user + system) of the same commands comes from
 * separate spawns that report it at exit (bench/lib/cpu-at-exit.mjs): on a shared machine, wall time waits for
 * a core, CPU time does not. Run after `npx tsc` (bin/ runs dist/).
 * Run: npx tsx bench/cli.bench.ts   Env: BENCH_ITERATIONS (default 15).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

const CPU_HOOK = path.join(ROOT, 'bench', 'lib', 'cpu-at-exit.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'taskops-cli-bench-'));
const cpuFile = path.join(tmp, 'cpu.txt');

function spawned(args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env });
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
}

function timed(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  spawned(args);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** CPU ms of one spawn, as the process itself reports it at exit. */
function cpuOf(args: readonly string[]): number {
  rmSync(cpuFile, { force: true });
  spawned(['--import', CPU_HOOK, ...args], { ...process.env, BENCH_CPU_FILE: cpuFile });
  return Number(readFileSync(cpuFile, 'utf8').trim());
}

const names = Object.keys(CASES) as Case[];
const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Case, number[]>;
const cpuSamples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Case, number[]>;
for (const n of names) timed(CASES[n].args);
// Round-robin: one spawn of each case per round, so load that comes and goes lands on all of them.
for (let i = 0; i < ITERATIONS; i++) {
  for (const n of names) samples[n].push(timed(CASES[n].args));
  for (const n of names) cpuSamples[n].push(cpuOf(CASES[n].args));
}
rmSync(tmp, { recursive: true, force: true });
const medians = (s: Record<Case, number[]>) =>
  Object.fromEntries(names.map((n) => [n, round(median(s[n]))])) as Record<Case, number>;
const ms = medians(samples);
const cpu = medians(cpuSamples);

printResult(
  'cli',
  {
    versionMs: ms.version,
    helpMs: ms.help,
    validateExamplesMs: ms.validate,
    bareNodeMs: ms.bareNode,
    cpuMs: cpu,
    loadAverage: os.loadavg().map((l) => round(l)),
    iterations: ITERATIONS,
  },
  [
    goal('taskops --version', ms.version, '<=', CASES.version.goalMs, ' ms'),
    goal('taskops --help', ms.help, '<=', CASES.help.goalMs, ' ms'),
    goal('taskops validate examples', ms.validate, '<=', CASES.validate.goalMs, ' ms'),
  ],
);
