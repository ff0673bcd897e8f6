#!/usr/bin/env node
/**
 * Runs every bench/*.bench.ts one after the other (never in parallel: they would measure each other),
 * streams their output, keeps each one's final JSON line, prints a summary and writes bench/.out/results.json.
 * Usage: npm run bench [-- <name filter>...]   e.g. npm run bench -- validate engine
 * Exit code: non-zero when a bench crashes or prints no result; a missed goal is reported, not an error.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(BENCH_DIR, '.out');

/** Listed in the order they run; a bench that is not there (yet) is skipped, as is any other *.bench.ts after these. */
const ORDER = ['validate', 'plan', 'engine', 'schedules', 'webhook'];
const rank = (name) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);

function benchFiles(filters) {
  const present = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length));
  return present
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))
    .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)));
}

/** Runs one bench under tsx, echoing its output; resolves with its exit code and its last JSON line. */
function runBench(name) {
  const file = path.join(BENCH_DIR, `${name}.bench.ts`);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: path.dirname(BENCH_DIR),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pending = '';
    let result = null;
    const take = (line) => {
      const trimmed = line.trim();
      if (!trimmed.startsWith('{"bench"')) return;
      try {
        result = JSON.parse(trimmed);
      } catch {
        // a line that only looks like a result: keep the last good one
      }
    };
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.on('close', (code, signal) => {
      take(pending);
      resolve({ name, code: code ?? 1, signal, result, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The figures of a result worth a summary line: numbers and short strings, not goals or the machine. */
function figures(result) {
  const skip = new Set(['bench', 'goals', 'goal', 'node', 'cpus', 'cpuModel']);
  return Object.entries(result)
    .filter(([k, v]) => !skip.has(k) && (typeof v === 'number' || (typeof v === 'string' && v.length < 40)))
    .map(([k, v]) => `${k}=${v}`)
    .join('  ');
}

/**
 * Goals in the shapes the benches print them: `goals: [{name, value, target, met}]` (bench/lib/report.ts),
 * `<figure>GoalMet: boolean` beside `<figure>` and an optional `<figure>Goal` text, or a bare `goal` number
 * beside a throughput `ratio` (higher is better).
 */
function goalsOf(result) {
  const goals = [...(result.goals ?? [])];
  for (const [key, met] of Object.entries(result)) {
    if (!key.endsWith('GoalMet') || typeof met !== 'boolean') continue;
    const figure = key.slice(0, -'GoalMet'.length);
    const value = result[figure] ?? result[`${figure}Ms`] ?? '?';
    goals.push({ name: figure, value, target: result[`${figure}Goal`] ?? 'see the bench', met });
  }
  if (typeof result.goal === 'number' && typeof result.ratio === 'number') {
    goals.push({
      name: 'ratio',
      value: result.ratio,
      target: `>= ${result.goal}`,
      met: result.ratio >= result.goal,
    });
  }
  return goals;
}

const RESULTS = path.join(OUT_DIR, 'results.json');

/** Results of earlier runs, so `npm run bench -- engine` refreshes one entry and keeps the others. */
function previousRuns() {
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')).runs ?? [];
  } catch {
    return [];
  }
}

function mergeRuns(previous, fresh) {
  const names = new Set(fresh.map((r) => r.name));
  const kept = previous.filter(
    (r) => !names.has(r.name) && existsSync(path.join(BENCH_DIR, `${r.name}.bench.ts`)),
  );
  return [...kept, ...fresh].sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : 1));
}

async function main() {
  const filters = process.argv.slice(2);
  const names = benchFiles(filters);
  if (names.length === 0) {
    console.error(`no bench matches ${filters.join(', ') || '(any)'} in ${BENCH_DIR}`);
    process.exit(1);
  }
  const runs = [];
  for (const name of names) {
    if (!existsSync(path.join(BENCH_DIR, `${name}.bench.ts`))) continue; // removed while others ran
    console.log(`\n=== ${name} (${names.indexOf(name) + 1}/${names.length})`);
    runs.push(await runBench(name));
  }

  console.log('\n=== summary');
  let crashed = 0;
  for (const run of runs) {
    const ok = run.code === 0 && run.result;
    if (!ok) crashed++;
    const status = ok
      ? 'ok'
      : run.code === 0
        ? 'FAILED: no result line'
        : `CRASHED (exit ${run.code}${run.signal ? `, ${run.signal}` : ''})`;
    console.log(`${run.name.padEnd(10)} ${status.padEnd(10)} ${run.seconds.toFixed(1).padStart(6)} s`);
    if (!run.result) continue;
    console.log(`  ${figures(run.result)}`);
    for (const g of goalsOf(run.result)) {
      console.log(`  goal ${g.met ? 'MET   ' : 'MISSED'} ${g.name}: ${g.value} (target ${g.target})`);
    }
  }

  mkdirSync(OUT_DIR, { recursive: true });
  const now = new Date().toISOString();
  const report = {
    at: now,
    machine: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemGb: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
      loadAverage: os.loadavg().map((n) => Number(n.toFixed(2))),
    },
    runs: mergeRuns(
      previousRuns(),
      runs.map(({ name, code, seconds, result }) => ({
        name,
        exitCode: code,
        seconds,
        at: now,
        goals: result ? goalsOf(result) : [],
        result,
      })),
    ),
  };
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), RESULTS)}`);
  if (crashed > 0) {
    console.error(`${crashed} bench(es) crashed or printed no result`);
    process.exit(1);
  }
}

await main();
