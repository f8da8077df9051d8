// Folds the tails of many namespaces at once (graceful shutdown, idle close). One by one took
// about 250 ms a tail (61 of 5,000 before the shutdown budget ran out, issue 9): the time is
// mostly waiting for uploads and manifest commits, so several run together while the build pool
// bounds the CPU work. Flushing is an optimization (the WAL holds every tail), so a failure or
// the deadline only leaves more for the next start to replay.
import pLimit from 'p-limit';
import type { Namespace } from './namespace.ts';
import { flushTail } from './flush.ts';

export interface FlushAllOptions {
  /** Flushes running at once. */
  concurrency: number;
  /** Clock time after which no further flush starts. */
  deadline: number;
  now?: () => number;
  flush?: (ns: Namespace) => Promise<boolean>;
  onError?: (ns: Namespace, err: unknown) => void;
  onSkipped?: (ns: Namespace) => void;
}

export interface FlushAllResult {
  flushed: number;
  failed: number;
  /** Not started: the deadline had passed. */
  skipped: number;
}

export const SHUTDOWN_FLUSH_CONCURRENCY = 16;

export async function flushAll(namespaces: Iterable<Namespace>, opts: FlushAllOptions): Promise<FlushAllResult> {
  const now = opts.now ?? Date.now;
  const flush = opts.flush ?? flushTail;
  const limit = pLimit(opts.concurrency);
  const result: FlushAllResult = { flushed: 0, failed: 0, skipped: 0 };
  await Promise.all([...namespaces].map((ns) => limit(async () => {
    if (now() > opts.deadline) {
      result.skipped++;
      opts.onSkipped?.(ns);
      return;
    }
    try {
      if (await flush(ns)) result.flushed++;
    } catch (e) {
      result.failed++;
      opts.onError?.(ns, e);
    }
  })));
  return result;
}
