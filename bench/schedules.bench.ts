/**
 * 100,000 resident schedules: heap after load, load time, and firing lateness
 * of a few thousand near-future firings on the real clock (setTimeout).
 * Run: npx tsx bench/schedules.bench.ts
 */
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ManualClock,
  Scheduler,
  nextFirings,
  systemClock,
  type NamedSchedule,
} from '../src/engine/schedule/index.js';
import type { ScheduleSpec } from '../src/manifest/types.js';

const RESIDENT = 100_000;
const TIMED = 3_000;
const SPREAD_MS = 3_000;
const LEAD_MS = 2_000;
const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
const hh = (n: number) => String(n).padStart(2, '0');

/** A deterministic mix: half cron, half repeat (every unit), across six zones. */
function residentSpec(i: number): ScheduleSpec {
  const timezone = ZONES[i % ZONES.length]!;
  const at = `${hh(i % 24)}:${hh((i * 7) % 60)}`;
  switch (i % 8) {
    case 0:
      return { timezone, cron: `${i % 60} ${i % 24} * * ${i % 7}` };
    case 1:
      return { timezone, cron: `${i % 60} */${1 + (i % 6)} * * *` };
    case 2:
      return { timezone, cron: `${i % 60} 9-17 * * mon-fri` };
    case 3:
      return { timezone, cron: `${i % 60} ${i % 24} ${1 + (i % 28)} * *` };
    case 4:
      return { timezone, repeat: { unit: 'hours', every: 1 + (i % 12), at: `00:${hh(i % 60)}` } };
    case 5:
      return { timezone, repeat: { unit: 'days', every: 1 + (i % 3), at } };
    case 6:
      return { timezone, repeat: { unit: 'weeks', every: 1 + (i % 2), on: [WEEKDAYS[i % 7]!], at } };
    default:
      return { timezone, repeat: { unit: 'months', on: [1 + (i % 31), 'last'], at } };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU cost of one firing (heap pop, next firing, re-arm) without timers: load-independent, unlike lateness. */
function firingCostUs(resident: NamedSchedule[]): { firings: number; costUs: number } {
  const clock = new ManualClock(Date.now());
  let firings = 0;
  const scheduler = new Scheduler({
    clock,
    defaultZone: 'UTC',
    catchUpWindowMs: 0,
    onFire: () => firings++,
    onMissed: () => undefined,
  });
  scheduler.setSchedules(resident, new Map());
  const started = performance.now();
  clock.advanceBy(6 * 3_600_000);
  const costUs = ((performance.now() - started) * 1000) / firings;
  scheduler.stop();
  return { firings, costUs };
}

async function main(): Promise<void> {
  const baseline = heapMb();
  const resident: NamedSchedule[] = Array.from({ length: RESIDENT }, (_, i) => ({
    name: `s${i}`,
    spec: residentSpec(i),
  }));
  const withInput = heapMb();

  const lateness: number[] = [];
  let residentFired = 0;
  let done!: () => void;
  const allFired = new Promise<void>((resolve) => (done = resolve));
  const scheduler = new Scheduler({
    clock: systemClock,
    defaultZone: 'UTC',
    catchUpWindowMs: 0,
    onFire: (e) => {
      if (!e.schedule.startsWith('t')) {
        residentFired++;
        return;
      }
      lateness.push(performance.timeOrigin + performance.now() - e.scheduledFor.getTime());
      if (lateness.length === TIMED) done();
    },
    onMissed: () => undefined,
  });

  const loadStarted = performance.now();
  scheduler.setSchedules(resident, new Map());
  const loadMs = performance.now() - loadStarted;
  const afterLoad = heapMb();

  // The timed firings arrive as a hot change to the resident set, as a git push would bring them.
  const firstAt = Date.now() + LEAD_MS;
  const timed: NamedSchedule[] = Array.from({ length: TIMED }, (_, i) => ({
    name: `t${i}`,
    spec: { once: new Date(firstAt + Math.floor((i * SPREAD_MS) / TIMED)).toISOString() },
  }));
  const reloadStarted = performance.now();
  scheduler.setSchedules([...resident, ...timed], new Map());
  const hotChangeMs = performance.now() - reloadStarted;
  if (Date.now() > firstAt) console.error('warning: the hot change took longer than the lead time');

  const previewStarted = performance.now();
  nextFirings(
    { cron: '* * * * *', timezone: 'Europe/Berlin' },
    { after: new Date(), count: 1440, defaultZone: 'UTC' },
  );
  const preview1440Ms = performance.now() - previewStarted;

  await allFired;
  scheduler.stop();
  const cost = firingCostUs(resident);
  lateness.sort((a, b) => a - b);
  const result = {
    bench: 'schedules',
    resident: RESIDENT + TIMED,
    loadMs: round(loadMs, 0),
    hotChangeMs: round(hotChangeMs, 0),
    heapUsedAfterLoadMb: round(afterLoad),
    heapOfSchedulerMb: round(afterLoad - withInput),
    heapOfInputSpecsMb: round(withInput - baseline),
    firings: lateness.length,
    residentFiredDuringWindow: residentFired,
    latenessP50Ms: round(percentile(lateness, 50)),
    latenessP99Ms: round(percentile(lateness, 99)),
    latenessMaxMs: round(lateness[lateness.length - 1]!),
    preview1440FiringsMs: round(preview1440Ms, 1),
    manualClockFirings6h: cost.firings,
    cpuPerFiringUs: round(cost.costUs, 1),
    loadAverage1m: round(os.loadavg()[0]!),
    node: process.version,
    cpus: os.cpus().length,
  };
  console.log(JSON.stringify(result));
}

await main();
