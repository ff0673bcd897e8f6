#!/usr/bin/env node
/**
 * A small bounded HTTP load client, run as its own process so the server it measures never shares its event
 * loop (autocannon and wrk are not installed). Keep-alive sockets, one request in flight per connection.
 * Closed loop by default (each connection sends again as soon as it has an answer); with `rate`, an open
 * loop paced to that many requests per second in all (a late connection sends at once, never in a burst).
 * Input: one JSON argument {url, method?, body?, bodies?, headers?, connections, durationMs, rate?, collectIds?}
 * (`bodies`: request k sends bodies[k % length]).
 * Output: one JSON line {sent, statuses, errors, seconds, latencyMs: {p50, p99, max}, cpuSeconds, acceptedIds?}.
 */
import http from 'node:http';

const opts = JSON.parse(process.argv[2] ?? '{}');
const target = new URL(opts.url);
const connections = opts.connections ?? 32;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const bodies = (opts.bodies ?? (opts.body === undefined ? [] : [opts.body])).map((b) => Buffer.from(b));
const statuses = {};
const latencies = [];
const acceptedIds = [];
let sent = 0;
let errors = 0;

function once() {
  return new Promise((resolve) => {
    const body = bodies.length > 0 ? bodies[sent % bodies.length] : undefined;
    const headers = { ...(opts.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) };
    const started = performance.now();
    const req = http.request(target, { method: opts.method ?? 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        latencies.push(performance.now() - started);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (opts.collectIds && res.statusCode === 202) {
          try {
            acceptedIds.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
          } catch {
            // not JSON: counted by status only
          }
        }
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
    sent++;
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
const until = started + opts.durationMs;
const cpuBefore = process.cpuUsage();

async function connection(index) {
  // Open loop: connection i sends request k at started + (k * connections + i) / rate.
  const gapMs = opts.rate ? (1000 * connections) / opts.rate : 0;
  let due = started + (opts.rate ? (1000 * index) / opts.rate : 0);
  while (performance.now() < until) {
    if (gapMs > 0) {
      const wait = due - performance.now();
      if (wait >= 1) await sleep(wait);
      due += gapMs;
      if (due > until + gapMs) break;
    }
    await once();
  }
}

await Promise.all(Array.from({ length: connections }, (_, i) => connection(i)));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const pct = (p) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? null;
const r = (n) => (n === null ? null : Number(n.toFixed(2)));
agent.destroy();
process.stdout.write(
  JSON.stringify({
    sent,
    statuses,
    errors,
    seconds: r(seconds),
    latencyMs: { p50: r(pct(50)), p99: r(pct(99)), max: r(latencies.at(-1) ?? null) },
    cpuSeconds: r((cpu.user + cpu.system) / 1e6),
    ...(opts.collectIds ? { acceptedIds } : {}),
  }) + '\n',
);
