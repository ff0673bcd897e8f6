// Event intake of `taskops serve` (POST /api/v1/events → stored durably → 202) against its floor, a bare Node
// http server doing the same HTTP work (bench/lib/bare-server.mjs), each in its own process and both driven by
// the same external load client (bench/lib/load-client.mjs, its own process), in interleaved rounds. serve is
// measured at its default log level (info) and at warn. Then commit → applied latency through POST /api/v1/sync.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServe, type ServeProcess } from '../test/helpers/serve-process.js';
import { cpuSecondsOf, runLoad, startBareServer } from './lib/processes.js';
import { median, round } from './lib/stats.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BODY = JSON.stringify({ type: 'bench', name: 'ping', object: 'obj-1', fields: { n: 1 } });

interface Round {
  reqPerSec: number;
  /** Requests answered per CPU second of the server process. */
  reqPerCpuSec: number;
}

/** One timed load on the server with process `pid`: every answer must be a 202. */
async function measure(url: string, pid: number, headers: Record<string, string> = {}): Promise<Round> {
  const cpuBefore = cpuSecondsOf(pid);
  const result = await runLoad({
    url: new URL('/api/v1/events', url).href,
    body: BODY,
    headers: { 'content-type': 'application/json', ...headers },
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
  });
  const cpu = cpuSecondsOf(pid) - cpuBefore;
  const ok = result.statuses['202'] ?? 0;
  if (ok !== result.sent || result.errors > 0)
    throw new Error(`not every request got 202: ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
  return { reqPerSec: ok / result.seconds, reqPerCpuSec: ok / Math.max(cpu, 0.01) };
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'taskops-bench-serve-'));
  const repo = path.join(work, 'repo');
  execFileSync('git', ['init', '-q', '--initial-branch=main', repo]);
  git(repo, 'config', 'user.email', 'bench@taskops.invalid');
  git(repo, 'config', 'user.name', 'bench');
  const manifest = (n: number) =>
    `apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: gpu}\nspec: {category: vms, members: [vm-${n}]}\n`;
  writeFileSync(path.join(repo, 'tags.yaml'), manifest(0));
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'first');
  const token = 'bench-token';
  const auth = { authorization: `Bearer ${token}` };
  const startAt = (level: string): Promise<ServeProcess> =>
    startServe({
      globalArgs: ['--data-dir', path.join(work, `data-${level}`)],
      serveArgs: ['--repo', repo, '--ref', 'main', '--poll-interval', '1h'],
      env: { TASKOPS_API_TOKEN: token },
      logLevel: level,
    });
  const serve = await startAt('info');
  const serveWarn = await startAt('warn');
  const bare = await startBareServer();
  try {
    const rounds = { bare: [] as Round[], info: [] as Round[], warn: [] as Round[] };
    // Warm-up of each, then interleaved rounds: a drift of the machine's load hits all three alike.
    await measure(bare.url, bare.pid);
    await measure(serve.url, serve.proc.pid!, auth);
    await measure(serveWarn.url, serveWarn.proc.pid!, auth);
    for (let i = 0; i < ROUNDS; i++) {
      rounds.bare.push(await measure(bare.url, bare.pid));
      rounds.info.push(await measure(serve.url, serve.proc.pid!, auth));
      rounds.warn.push(await measure(serveWarn.url, serveWarn.proc.pid!, auth));
    }
    const rps = (r: Round[]) => median(r.map((x) => x.reqPerSec));
    const perCpu = (r: Round[]) => median(r.map((x) => x.reqPerCpuSec));
    const bareRps = rps(rounds.bare);
    const serveRps = rps(rounds.info);
    const warnRps = rps(rounds.warn);

    const latencies: number[] = [];
    for (let i = 1; i <= 10; i++) {
      writeFileSync(path.join(repo, 'tags.yaml'), manifest(i));
      git(repo, 'commit', '-qam', `change ${i}`);
      const started = performance.now();
      const res = await fetch(`${serve.url}/api/v1/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      const outcome = (await res.json()) as { outcome: string };
      if (outcome.outcome !== 'applied') throw new Error(`sync did not apply: ${JSON.stringify(outcome)}`);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const ratio = serveRps / bareRps;
    const result = {
      bench: 'serve',
      connections: CONNECTIONS,
      rounds: ROUNDS,
      bareNodeReqPerSec: Math.round(bareRps),
      serveEventsReqPerSec: Math.round(serveRps),
      serveWarnReqPerSec: Math.round(warnRps),
      ratio: round(ratio),
      ratioAtWarn: round(warnRps / bareRps),
      // Requests per CPU second of the server process, serve over bare: the cost ratio, whatever the client's share.
      cpuRatio: round(perCpu(rounds.info) / perCpu(rounds.bare)),
      cpuRatioAtWarn: round(perCpu(rounds.warn) / perCpu(rounds.bare)),
      ratioGoal: '>= 0.7 (default log level, bare node in its own process)',
      ratioGoalMet: ratio >= 0.7,
      syncAppliedMsP50: Number(latencies[Math.floor(latencies.length / 2)]!.toFixed(1)),
      syncAppliedMsMax: Number(latencies.at(-1)!.toFixed(1)),
      node: process.version,
    };
    console.log(
      `event intake: taskops ${result.serveEventsReqPerSec}/s (info), ${result.serveWarnReqPerSec}/s (warn) vs bare node ${result.bareNodeReqPerSec}/s: ratio ${result.ratio} (warn ${result.ratioAtWarn}), CPU ratio ${result.cpuRatio} (warn ${result.cpuRatioAtWarn})`,
    );
    console.log(
      `commit → applied via /api/v1/sync: p50 ${result.syncAppliedMsP50} ms, max ${result.syncAppliedMsMax} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await bare.close();
    await serve.kill('SIGTERM');
    await serveWarn.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
