// `node --import bench/lib/cpu-at-exit.mjs …`: at exit, appends the process's CPU time (user + system, every
// thread, bootstrap included) in ms to $BENCH_CPU_FILE, one number a line. Wall time is measured without it.
import { appendFileSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  appendFileSync(process.env.BENCH_CPU_FILE, `${(user + system) / 1000}\n`);
});
