// Event intake of `taskops serve` (POST /api/v1/events → stored durably → 202) beside a bare Node http server
// answering 202 on the same machine in the same run, and commit → applied latency through POST /api/v1/sync.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServe } from '../test/helpers/serve-process.js';

const CONCURRENCY = 32;
const DURATION_MS = 4000;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const BODY = JSON.stringify({ type: 'bench', name: 'ping', object: 'obj-1', fields: { n: 1 } });

/** Requests per second from CONCURRENCY keep-alive clients posting for DURATION_MS. */
async function load(url: string, headers: Record<string, string> = {}): Promise<number> {
  const target = new URL('/api/v1/events', url);
  let done = 0;
  const until = Date.now() + DURATION_MS;
  const client = async () => {
    while (Date.now() < until) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          target,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 202 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(BODY);
      });
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return done / ((Date.now() - started) / 1000);
}

async function bareServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"x"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
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
  const serve = await startServe({
    globalArgs: ['--data-dir', path.join(work, 'data')],
    serveArgs: ['--repo', repo, '--ref', 'main', '--poll-interval', '1h'],
    env: { TASKOPS_API_TOKEN: token },
  });
  const bare = await bareServer();
  try {
    await load(bare.url); // warm-up
    const bareRps = await load(bare.url);
    await load(serve.url, { authorization: `Bearer ${token}` });
    const serveRps = await load(serve.url, { authorization: `Bearer ${token}` });

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
      concurrency: CONCURRENCY,
      bareNodeReqPerSec: Math.round(bareRps),
      serveEventsReqPerSec: Math.round(serveRps),
      ratio: Number(ratio.toFixed(2)),
      ratioGoal: '>= 0.5',
      ratioGoalMet: ratio >= 0.5,
      syncAppliedMsP50: Number(latencies[Math.floor(latencies.length / 2)]!.toFixed(1)),
      syncAppliedMsMax: Number(latencies.at(-1)!.toFixed(1)),
      node: process.version,
    };
    console.log(
      `event intake: taskops ${result.serveEventsReqPerSec}/s vs bare node ${result.bareNodeReqPerSec}/s (ratio ${result.ratio})`,
    );
    console.log(
      `commit → applied via /api/v1/sync: p50 ${result.syncAppliedMsP50} ms, max ${result.syncAppliedMsMax} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await bare.close();
    await serve.kill('SIGTERM');
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
