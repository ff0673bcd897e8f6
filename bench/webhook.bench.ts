/**
 * Webhook deliveries per second through the webhook driver, beside its floor against the same keep-alive
 * receiver at the same concurrency, interleaved in the same run. The floor is the same-work client: axios
 * with the driver's transport settings (no redirects, no JSON transform, the body as a stream drained and
 * dropped, no decompression); default axios (which follows redirects and parses JSON both ways) does more
 * work than the driver and is shown beside, not as the floor. Run: npx tsx bench/webhook.bench.ts
 * ratio = driver/s ÷ same-work/s (median of per-round ratios); cpuRatio = same-work CPU per delivery ÷
 * the driver's, which holds up better on a busy machine.
 * Env: BENCH_SECONDS (per round, default 2), BENCH_CONCURRENCY (default 32), BENCH_ROUNDS (default 5).
 */
import axios from 'axios';
import http from 'node:http';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { createWebhookDriver } from '../src/engine/drivers/index.js';
import type { DriverRequest } from '../src/engine/drivers/index.js';
import { secretPolicy } from '../src/manifest/index.js';
import type { TaskSpec, WebhookSpec } from '../src/manifest/types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

// The receiver is its own process: it neither shares the event loop nor the CPU time being measured.
const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(Number(d))),
  );
  return { url: `http://127.0.0.1:${port}/hook`, stop: () => child.kill() };
}

interface Measurement {
  perSec: number;
  /** Client CPU time per delivery: robust against other load on a shared machine. */
  cpuUsPerDelivery: number;
}

/** Runs `send` from CONCURRENCY loops for SECONDS. */
async function measure(send: () => Promise<boolean>, seconds = SECONDS): Promise<Measurement> {
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
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const used = process.cpuUsage(cpu);
  if (failed) throw new Error(`${failed} deliveries failed during the benchmark`);
  return {
    perSec: done / ((performance.now() - started) / 1000),
    cpuUsPerDelivery: (used.user + used.system) / done,
  };
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
// The floor: the same request with the driver's transport settings (src/engine/drivers/webhook.ts).
const sameWork = axios.create({
  maxRedirects: 0,
  validateStatus: () => true,
  responseType: 'stream',
  decompress: false,
  maxContentLength: -1,
  transformRequest: [(data: unknown) => data],
  headers: { 'user-agent': 'taskops' },
});
const tuned = async () => {
  const res = await sameWork.post(
    receiver.url,
    JSON.stringify({ text: `Sync Error Alert: ${name} failed at ${new Date().toUTCString()}` }),
    { httpAgent: bareAgent, headers: { 'content-type': 'application/json' } },
  );
  const body = res.data as NodeJS.ReadableStream;
  for await (const _chunk of body) {
    // drained and dropped, as the driver does
  }
  return res.status === 200;
};

const driver = createWebhookDriver({}, { secrets: secretPolicy({ env: ['BENCH_SIGNING_SECRET'] }) });
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

await measure(bare, 2);
await measure(viaDriver, 2);
await measure(viaDriverSigned, 1);
await measure(tuned, 1);

type Round = Record<'axios' | 'driver' | 'signed' | 'tuned', Measurement>;
const rounds: Round[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  // Interleaved and in alternating order, so drift in machine load hits both sides alike.
  let floorRun: Measurement;
  let driverRun: Measurement;
  if (round % 2) {
    floorRun = await measure(tuned);
    driverRun = await measure(viaDriver);
  } else {
    driverRun = await measure(viaDriver);
    floorRun = await measure(tuned);
  }
  const r: Round = {
    axios: await measure(bare),
    driver: driverRun,
    signed: await measure(viaDriverSigned),
    tuned: floorRun,
  };
  rounds.push(r);
  console.log(
    `round ${round}: axios ${r.axios.perSec.toFixed(0)}/s (${r.axios.cpuUsPerDelivery.toFixed(0)} µs CPU each), ` +
      `driver ${r.driver.perSec.toFixed(0)}/s (${r.driver.cpuUsPerDelivery.toFixed(0)} µs), ` +
      `driver+signing ${r.signed.perSec.toFixed(0)}/s (${r.signed.cpuUsPerDelivery.toFixed(0)} µs), ` +
      `same-work floor ${r.tuned.perSec.toFixed(0)}/s (${r.tuned.cpuUsPerDelivery.toFixed(0)} µs), ` +
      `ratio ${(r.driver.perSec / r.tuned.perSec).toFixed(2)}`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const med = (side: keyof Round, key: keyof Measurement) => median(rounds.map((r) => r[side][key]));
// Medians of per-round ratios: each round's pair ran back to back under the same load.
const ratio = median(rounds.map((r) => r.driver.perSec / r.tuned.perSec));
const cpuRatio = median(rounds.map((r) => r.tuned.cpuUsPerDelivery / r.driver.cpuUsPerDelivery));
const ratioVsDefaultAxios = median(rounds.map((r) => r.driver.perSec / r.axios.perSec));

await driver.close?.();
bareAgent.destroy();
receiver.stop();

console.log(
  JSON.stringify({
    bench: 'webhook',
    concurrency: CONCURRENCY,
    secondsPerRound: SECONDS,
    rounds: ROUNDS,
    axiosPerSec: Math.round(med('axios', 'perSec')),
    driverPerSec: Math.round(med('driver', 'perSec')),
    driverSignedPerSec: Math.round(med('signed', 'perSec')),
    sameWorkPerSec: Math.round(med('tuned', 'perSec')),
    ratio: Number(ratio.toFixed(3)),
    roundRatios: rounds.map((r) => Number((r.driver.perSec / r.tuned.perSec).toFixed(3))),
    ratioVsDefaultAxios: Number(ratioVsDefaultAxios.toFixed(3)),
    axiosCpuUs: Math.round(med('axios', 'cpuUsPerDelivery')),
    driverCpuUs: Math.round(med('driver', 'cpuUsPerDelivery')),
    driverSignedCpuUs: Math.round(med('signed', 'cpuUsPerDelivery')),
    sameWorkCpuUs: Math.round(med('tuned', 'cpuUsPerDelivery')),
    cpuRatio: Number(cpuRatio.toFixed(3)),
    goal: 0.7,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)),
  }),
);
