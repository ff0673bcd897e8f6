import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap as `taskops serve` runs it: a long-running engine favours memory over the few percent of CPU that
 * more frequent collections cost. How far the heap grows past the live data before a full collection: by
 * default up to about 2×, which at 100,000 schedules put serve's peak RSS near 700 MB for 150-250 MB of live
 * data. V8 reads it whenever it sizes the heap, so it takes effect when set, even once running; so does
 * `--semi-space-growth-factor`, which serve sets to 1 until it is ready (see `startingUp`). (Kept at 1 for
 * good, the young generation at 1 MB put a scavenge every ~40 runs under load: not done.)
 */
const SERVE_HEAP_FLAGS = '--heap-growing-percent=15';

/**
 * Sets them. bin/taskops.js does before serve's modules load; serve again once the store's checkpoint worker
 * runs, since a worker thread's start sets V8's flags back to the process's own.
 */
export function tuneHeapForServe(): void {
  setFlagsFromString(`${SERVE_HEAP_FLAGS} --semi-space-growth-factor=${startingUp ? 1 : 2}`);
}

/**
 * Until serve is ready its young generation stays at its first size: start-up builds state that lives for
 * good, so a young generation grown to 16 MB semi-spaces (what V8 does when much survives) only adds ≈ 30 MB
 * of resident memory at the start's peak and copies the same objects once more. Once ready it grows as V8
 * sees fit (2, V8's default), so a busy engine gets the young generation its load asks for.
 */
let startingUp = true;

/** serve is ready: the young generation may grow from now on. */
export function serveStarted(): void {
  startingUp = false;
  tuneHeapForServe();
}
