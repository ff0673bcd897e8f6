import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap as `taskops serve` runs it: a long-running engine favours memory over the few percent of CPU that
 * more frequent collections cost. How far the heap grows past the live data before a full collection: by
 * default up to about 2×, which at 100,000 schedules put serve's peak RSS near 700 MB for 150-250 MB of live
 * data. V8 reads it whenever it sizes the heap, so it takes effect when set, even once running.
 * (`--semi-space-growth-factor=1`, a young generation kept at 1 MB, took ≈ 40 MB off the peaks but made a
 * first start ≈ 20% slower and put a scavenge every ~40 runs under load; not kept.)
 */
const SERVE_HEAP_FLAGS = '--heap-growing-percent=15';

/**
 * Sets them. bin/taskops.js does before serve's modules load; serve again once the store's checkpoint worker
 * runs, since a worker thread's start sets V8's flags back to the process's own.
 */
export function tuneHeapForServe(): void {
  setFlagsFromString(SERVE_HEAP_FLAGS);
}
