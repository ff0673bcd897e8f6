/**
 * Full validation (loadManifests: parse + schema + semantics + references) of 10,000 manifests in 1,000 files,
 * beside the floor: the bare `yaml` parse of the same files (parseAllDocuments + toJS), in the same run.
 * Run: npx tsx bench/validate.bench.ts   Env: BENCH_ITERATIONS (warm pairs, default 7).
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadManifests } from '../src/manifest/index.js';
import { BENCH_DRIVER_CATALOG, writeManifestRepo } from './lib/manifests.js';
import { goal, printResult } from './lib/report.js';
import { collectGarbage, median, round } from './lib/stats.js';
import { tempDir } from './lib/tempdir.js';

const DOCUMENTS = 10_000;
const FILES = 1_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 7);
const WARMUP = 3;
const GOAL_RATIO = 1.3;

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** The floor: what any YAML-reading tool pays for these files, nothing checked. */
async function bareParse(dir: string): Promise<number> {
  let documents = 0;
  for (const file of await yamlFiles(dir)) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      doc.toJS();
      documents++;
    }
  }
  return documents;
}

async function fullValidate(dir: string): Promise<number> {
  const result = await loadManifests([dir], { revision: 'bench', driverCatalog: BENCH_DRIVER_CATALOG });
  if (!result.state)
    throw new Error(`generated manifests are invalid: ${JSON.stringify(result.problems[0])}`);
  return result.documents;
}

interface Timing {
  wallMs: number;
  /** CPU time of this process (all threads): steadier than wall time when other work shares the cores. */
  cpuMs: number;
}

async function timed(fn: () => Promise<number>): Promise<Timing> {
  collectGarbage();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const documents = await fn();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (documents !== DOCUMENTS) throw new Error(`read ${documents} documents, expected ${DOCUMENTS}`);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const dir = tempDir('validate');
  const files = writeManifestRepo(dir, DOCUMENTS, FILES);
  // Warm-up rounds: JIT tiers, Ajv schema compilation and the page cache are not what is measured
  // (the first warm rounds still ran 30-40% slower when only one was discarded).
  const coldValidateMs = (await timed(() => fullValidate(dir))).wallMs;
  for (let i = 0; i < WARMUP; i++) {
    await timed(() => bareParse(dir));
    if (i > 0) await timed(() => fullValidate(dir));
  }

  const floor: Timing[] = [];
  const full: Timing[] = [];
  // Pairs run back to back, so both halves see the same neighbours on the machine; the order alternates so
  // neither always runs first.
  for (let i = 0; i < ITERATIONS; i++) {
    let f: Timing;
    let v: Timing;
    if (i % 2 === 0) {
      f = await timed(() => bareParse(dir));
      v = await timed(() => fullValidate(dir));
    } else {
      v = await timed(() => fullValidate(dir));
      f = await timed(() => bareParse(dir));
    }
    floor.push(f);
    full.push(v);
    console.log(
      `  pair ${i + 1}: yaml ${round(f.wallMs, 0)} ms (cpu ${round(f.cpuMs, 0)}), ` +
        `validate ${round(v.wallMs, 0)} ms (cpu ${round(v.cpuMs, 0)}), ratio ${round(v.wallMs / f.wallMs, 3)}`,
    );
  }
  const wall = (t: Timing) => t.wallMs;
  const cpu = (t: Timing) => t.cpuMs;
  // The goal figure: median of the per-pair ratios, which a busy neighbour moves far less than either time.
  const ratio = median(full.map((v, i) => v.wallMs / floor[i]!.wallMs));
  printResult(
    'validate',
    {
      documents: DOCUMENTS,
      files: files.length,
      pairs: ITERATIONS,
      yamlParseMs: round(median(floor.map(wall)), 1),
      validateMs: round(median(full.map(wall)), 1),
      coldValidateMs: round(coldValidateMs, 1),
      validateDocsPerSec: Math.round(DOCUMENTS / (median(full.map(wall)) / 1000)),
      yamlParseCpuMs: round(median(floor.map(cpu)), 1),
      validateCpuMs: round(median(full.map(cpu)), 1),
      ratio: round(ratio, 3),
      ratioOfMedians: round(median(full.map(wall)) / median(floor.map(wall)), 3),
      cpuRatio: round(median(full.map((v, i) => v.cpuMs / floor[i]!.cpuMs)), 3),
      loadAverage1m: round(os.loadavg()[0]!, 2),
    },
    [goal('validate / bare yaml parse (median of pairs)', round(ratio, 3), '<=', GOAL_RATIO, 'x')],
  );
}

await main();
