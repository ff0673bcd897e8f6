/**
 * Webhook deliveries per second through the webhook driver, beside a bare axios loop against the same
 * keep-alive receiver at the same concurrency, in the same run. Run: npx tsx bench/webhook.bench.ts
 * Env: BENCH_SECONDS (per round, default 3), BENCH_CONCURRENCY (default 32), BENCH_ROUNDS (default 3).
 */
import axios from 'axios';
import http from 'node:http';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { createWebhookDriver } from '../src/engine/drivers/index.js';
import type { DriverRequest } from '../src/engine/drivers/index.js';
import type { TaskSpec, WebhookSpec } from '../src/manifest/types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// The receiver runs on its own thread so it does not share the event loop being measured.
const RECEIVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const worker = new Worker(RECEIVER, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return { url: `http://127.0.0.1:${port}/hook`, stop: () => worker.postMessage('stop') };
}

/** Runs `send` from CONCURRENCY loops for SECONDS; returns successful sends per second. */
async function measure(send: () => Promise<boolean>, seconds = SECONDS): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      if (await send()) done++;
      else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  if (failed) throw new Error(`${failed} deliveries failed during the benchmark`);
  return done / ((performance.now() - started) / 1000);
}

const receiver = await startReceiver();
const name = 'gpu-ws-01';

const bareAgent = new http.Agent({ keepAlive: true });
const bare = async () => {
  const res = await axios.post(
    receiver.url,
    { text: `Sync Error Alert: ${name} failed at ${new Date().toUTCString()}` },
    { httpAgent: bareAgent },
  );
  return res.status === 200;
};

const driver = createWebhookDriver();
const task: TaskSpec = {
  objectType: 'webhook',
  action: 'send',
  target: { name: 'slack' },
  params: { payload: '{"text": "Sync Error Alert: ${NAME} failed at ${DATE}"}' },
};
const request = (spec: WebhookSpec): DriverRequest => ({
  runId: 'bench',
  task: { name: 'bench', spec: task },
  target: name,
  webhook: { name: 'slack', spec },
  signal: new AbortController().signal,
  vars: { now: new Date(), zone: 'UTC', random: Math.random, name, task: 'bench', runId: 'bench' },
});
const plainSpec: WebhookSpec = { url: receiver.url, retries: 3 };
const signedSpec: WebhookSpec = {
  url: receiver.url,
  retries: 3,
  signingSecretFrom: { env: 'BENCH_SIGNING_SECRET' },
};
process.env.BENCH_SIGNING_SECRET = `whsec_${Buffer.from('bench-signing-key-32-bytes-long!').toString('base64')}`;
const viaDriver = async () => (await driver.run(request(plainSpec))).ok;
const viaDriverSigned = async () => (await driver.run(request(signedSpec))).ok;

await measure(bare, 1);
await measure(viaDriver, 1);

const rounds: Array<{ axios: number; driver: number; signed: number }> = [];
for (let round = 1; round <= ROUNDS; round++) {
  // Interleaved, so drift in machine load hits both sides alike.
  const result = {
    axios: await measure(bare),
    driver: await measure(viaDriver),
    signed: await measure(viaDriverSigned),
  };
  rounds.push(result);
  console.log(
    `round ${round}: axios ${result.axios.toFixed(0)}/s, driver ${result.driver.toFixed(0)}/s, ` +
      `driver+signing ${result.signed.toFixed(0)}/s, ratio ${(result.driver / result.axios).toFixed(2)}`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const axiosPerSec = median(rounds.map((r) => r.axios));
const driverPerSec = median(rounds.map((r) => r.driver));
const signedPerSec = median(rounds.map((r) => r.signed));

await driver.close?.();
bareAgent.destroy();
receiver.stop();

console.log(
  JSON.stringify({
    bench: 'webhook',
    concurrency: CONCURRENCY,
    secondsPerRound: SECONDS,
    rounds: ROUNDS,
    axiosPerSec: Math.round(axiosPerSec),
    driverPerSec: Math.round(driverPerSec),
    driverSignedPerSec: Math.round(signedPerSec),
    ratio: Number((driverPerSec / axiosPerSec).toFixed(3)),
    goal: 0.7,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
  }),
);
