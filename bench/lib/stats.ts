/** Small numeric helpers shared by the benches: medians, percentiles, rounding, heap after a full GC. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// --expose-gc at run time, so the benches need no special node flags from the runner.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full collection, so a timed run does not pay for the garbage of the one before it. */
export const collectGarbage = (): void => gc();

/** Heap used in MB after two full collections (what stays alive, not garbage waiting to be swept). */
export function heapUsedMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

export const rssMb = (): number => process.memoryUsage().rss / 1024 / 1024;
