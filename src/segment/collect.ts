// Returns the memory of a finished flush, merge or close to the OS soon after, instead of at V8's
// next collection. A merge leaves its dead buffers in two places: on the main thread (its inputs'
// rows, the chunks posted to the build thread, the segment bytes uploaded) and on the build
// thread (every row's vector: 512 MB for 1M × 128-d). V8 frees a dead ArrayBuffer's memory only
// in a collection, which comes when that thread next allocates, and after the last merge of an
// ingest neither may. Measured (1M × 128-d ingested, merges settled, no queries, 15 s idle):
// - neither collecting: 362 MB of ArrayBuffers held, RSS 829 MiB; a heap snapshot of the main
//   thread reached 28 MB of them; in another run 642 MB, RSS 1,101 MiB, the main heap at 171 MB;
// - the main thread collecting after each commit: 375 MB, RSS 802 MiB (the build threads' left);
// - both: 369 MB, RSS 740 MiB (one run each; what the 369 MB are is not known yet).
// A collection costs the main thread tens of milliseconds at a heap of ~100 MB, less than the
// merge that made the garbage; it runs at most once every MIN_INTERVAL_MS.
//
// `gc` is exposed by V8's --expose-gc, set at run time (as Jest does for --logHeapUsage): contexts
// created afterwards, worker threads' included, get a `gc` function.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How long after a change the main thread collects: the change's caller has returned and dropped its buffers. */
const DELAY_MS = 1000;
/** Fewest milliseconds between two main-thread collections, so steady ingest does not collect per flush. */
const MIN_INTERVAL_MS = 10_000;

let collect: (() => void) | null = null;
let timer: NodeJS.Timeout | null = null;
let lastAt = -Infinity;

/** Turns collections on for this process and the threads it starts from now on (main.ts, before the build pool); false where V8 refuses. */
export function enableCollections(): boolean {
  if (collect !== null) return true;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return false;
    collect = gc as () => void;
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks for a full collection on the main thread DELAY_MS from now (or MIN_INTERVAL_MS after the
 * last one): called when a segment-list change or a close has dropped large buffers. Does nothing
 * unless enabled.
 */
export function scheduleCollection(): void {
  if (collect === null || timer !== null) return;
  const wait = Math.max(DELAY_MS, lastAt + MIN_INTERVAL_MS - performance.now());
  timer = setTimeout(() => {
    timer = null;
    lastAt = performance.now();
    collect?.();
  }, wait);
  timer.unref();
}

/** In a build thread, once its output is posted: a full collection, when the process enabled them. */
export function collectInThread(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
