// One memory budget per node: cache.memory_size, shared by everything the node keeps in memory
// that grows with the number or size of namespaces. Two kinds of holder share it:
// - open namespaces: the owned ones (tails, segment readers, fixed overhead; closed least recently
//   used, after a flush, by the catalog) and the query node's views (tails, overhead; dropped
//   least recently used). Closing one costs a reopen (a manifest, a WAL replay: several round
//   trips), so they come first, up to NAMESPACE_SHARE of the budget between them;
// - the memory tier (decoded segment readers of views, IVF cluster blocks, postings: one LRU over
//   all of them, memory-cache.ts), whose entries cost one ranged read each to get back and can be
//   evicted at once. It has whatever the namespaces do not hold, never less than the rest.
// Fixed shares per kind were the alternative: simpler, but a node with one large namespace would
// leave most of its budget to namespaces it does not have, and one with 100k small ones most of
// it to a tier it hardly uses.
import { MemoryTier, type MemoryCache } from './memory-cache.ts';

/** The share of the budget open namespaces (owned and views together) may hold. */
export const NAMESPACE_SHARE = 0.75;

export interface MemoryBudgetStats {
  /** cache.memory_size. */
  max_bytes: number;
  /** Bytes by kind: each holder's last report and each memory-tier part's entries. */
  by_kind: Record<string, number>;
  total: number;
}

export class MemoryBudget {
  readonly tier: MemoryTier;
  readonly #held = new Map<string, number>();

  constructor(readonly maxBytes: number, holders: readonly string[] = ['namespaces', 'views']) {
    this.tier = new MemoryTier(maxBytes);
    for (const kind of holders) this.#held.set(kind, 0);
  }

  /** The memory tier's part for one kind of decoded structure. */
  cache<V extends {}>(kind: string): MemoryCache<V> {
    return this.tier.part<V>(kind);
  }

  /**
   * Bytes holder `kind` may hold: the namespaces' share less what the other holders last
   * reported, but never less than an even split of the share, so that a full set of views cannot
   * close every owned namespace, nor the reverse.
   */
  allowance(kind: string): number {
    const share = this.maxBytes * NAMESPACE_SHARE;
    let others = 0;
    for (const [k, bytes] of this.#held) if (k !== kind) others += bytes;
    return Math.max(share / this.#held.size, share - others);
  }

  /**
   * What holder `kind` holds now (its own estimate, summed by the holder when it checks its
   * bound: after opens, closes and refreshes, not on every tier access). The memory tier gets
   * the rest of the budget, never less than its own share, evicting least recently used entries.
   */
  report(kind: string, bytes: number): void {
    if (!this.#held.has(kind)) throw new RangeError(`memory budget has no holder '${kind}'`);
    this.#held.set(kind, bytes);
    let held = 0;
    for (const b of this.#held.values()) held += b;
    this.tier.resize(Math.max(this.maxBytes * (1 - NAMESPACE_SHARE), this.maxBytes - held));
  }

  stats(): MemoryBudgetStats {
    const byKind: Record<string, number> = {};
    let total = 0;
    for (const [kind, bytes] of this.#held) total += byKind[kind] = bytes;
    for (const [kind, bytes] of Object.entries(this.tier.bytesByKind())) total += byKind[kind] = bytes;
    return { max_bytes: this.maxBytes, by_kind: byKind, total };
  }
}
