// Write backpressure: a write is refused with 429 (and nothing of it applied) while the
// namespace's unindexed tail, or all the tails of the node together, are at their byte limit.
// The tail is what a restart replays and what the owner holds in memory until a flush folds it,
// so this bounds both. The flush that ends the refusal is already due: a namespace over a limit
// counts as ready to flush (Namespace.overLimit), whatever the flush thresholds say.
//
// "Unindexed bytes" are the WAL objects after the manifest's watermark (exact, counted as they
// are applied) plus an estimate of the writes accepted but not yet durable, so concurrent writes
// cannot all slip under the limit at once. A write is admitted when the tail is below the limit,
// whatever its own size: the limit is passed by at most the writes in flight when it was
// reached, and a batch larger than the limit on an empty tail is still accepted (the body limit
// bounds it), never refused forever.
//
// Every write counts, deletes included: a tombstone is replayed like an upsert, so refusing only
// upserts would leave a way to grow the tail without bound. Deleting the namespace is always allowed.
import { Errors, SiltError } from '../errors.ts';
import type { SiltConfig } from '../config/index.ts';

type Limits = Pick<SiltConfig['indexing'], 'unindexed_limit_bytes' | 'node_unindexed_limit_bytes' | 'backpressure_retry_after_secs'>;

/** A 429 that says when to come back (sent as Retry-After). */
export class BackpressureError extends SiltError {
  constructor(readonly retryAfterSecs: number, base: SiltError) {
    super(base.code, base.statusCode, base.message);
  }
}

export interface UnindexedStats {
  unindexed_bytes: number;
  unindexed_limit_bytes: number;
}

export class WriteAdmission {
  constructor(
    private readonly limits: Limits,
    /** The unindexed bytes of every namespace open on this node. */
    private readonly nodeBytes: () => number,
  ) {}

  get namespaceLimit(): number {
    return this.limits.unindexed_limit_bytes;
  }

  /** True when a namespace whose tail holds `bytes` is refused writes (and so must flush). */
  refuses(bytes: number): boolean {
    return bytes >= this.limits.unindexed_limit_bytes || this.nodeBytes() >= this.limits.node_unindexed_limit_bytes;
  }

  /** Throws the 429 for a write to `ns`, whose tail holds `bytes`, when it must wait. */
  check(ns: string, bytes: number): void {
    const after = this.limits.backpressure_retry_after_secs;
    const own = this.limits.unindexed_limit_bytes;
    if (bytes >= own) {
      throw new BackpressureError(after, Errors.backpressure(ns,
        `its unindexed data (${bytes} bytes) is at the namespace limit of ${own} bytes (indexing.unindexed_limit_bytes)`, after));
    }
    const node = this.nodeBytes();
    const limit = this.limits.node_unindexed_limit_bytes;
    if (node >= limit) {
      throw new BackpressureError(after, Errors.backpressure(ns,
        `the node's unindexed data (${node} bytes, all namespaces) is at its limit of ${limit} bytes (indexing.node_unindexed_limit_bytes)`, after));
    }
  }

  /** The node-wide figures for /stats and /metrics. */
  nodeStats(): UnindexedStats {
    return { unindexed_bytes: this.nodeBytes(), unindexed_limit_bytes: this.limits.node_unindexed_limit_bytes };
  }
}
