// What the views of both text formats share (disk-index.ts format 1, block-index.ts format 2):
// only the rows with live[row] === 1 exist, so dead rows drop out of postings, lengths and the
// collection statistics BM25 scores with.
import { LENGTH_TABLE } from './bm25.ts';
import type { Postings } from './index-view.ts';
import type { TextStats } from './disk-index.ts';

/** What a view reads of its format's index. */
export interface LiveRowsIndex {
  readonly rows: number;
  /** Each row's length as BM25's one-byte norm. */
  readonly norms: Uint8Array;
  /** Each row's exact token count. */
  readonly lengths: Uint32Array;
}

/** docCount and sumTotalTermFreq over the live rows: one pass over the rows. */
export function liveStatsOf(index: LiveRowsIndex, live: Uint8Array): TextStats {
  const lengths = index.lengths;
  let docCount = 0;
  let sumTotalTermFreq = 0;
  for (let row = 0; row < index.rows; row++) {
    const len = lengths[row]!;
    if (len > 0 && live[row] === 1) {
      docCount++;
      sumTotalTermFreq += len;
    }
  }
  return { docCount, sumTotalTermFreq };
}

/**
 * One deletion state's view of a segment's text index. It snapshots nothing: make a new view
 * after rows are killed. The statistics are computed from the live array on first use, unless
 * given precomputed.
 */
export abstract class LiveRowsView {
  private cachedStats: TextStats | undefined;
  private allLive: boolean | undefined;

  /** `allLive`, when known, spares the pass over `live` (views derived from one another share it). */
  constructor(private readonly rowsIndex: LiveRowsIndex, protected readonly live: Uint8Array, stats?: TextStats, allLive?: boolean) {
    this.cachedStats = stats;
    this.allLive = allLive;
  }

  /** Whether stats() is known without reading the lengths. */
  protected hasStats(): boolean {
    return this.cachedStats !== undefined;
  }

  docLength(row: number): number {
    return this.live[row] === 1 ? LENGTH_TABLE[this.rowsIndex.norms[row]!]! : 0;
  }

  /** The exact token count of a row (0 for dead rows). */
  exactLength(row: number): number {
    return this.live[row] === 1 ? this.rowsIndex.lengths[row]! : 0;
  }

  stats(): TextStats {
    return this.liveStats();
  }

  liveStats(): TextStats {
    this.cachedStats ??= liveStatsOf(this.rowsIndex, this.live);
    return { ...this.cachedStats };
  }

  protected everyRowLive(): boolean {
    if (this.allLive === undefined) {
      this.allLive = true;
      for (let row = 0; row < this.rowsIndex.rows; row++) if (this.live[row] !== 1) { this.allLive = false; break; }
    }
    return this.allLive;
  }

  /** `all` without its dead rows: itself when every row is live, null when none is. */
  protected keepLive(all: Postings): Postings | null {
    if (this.everyRowLive()) return all;
    const n = all.rows.length;
    let kept = 0;
    for (let i = 0; i < n; i++) if (this.live[all.rows[i]!] === 1) kept++;
    if (kept === n) return all;
    if (kept === 0) return null;
    const rows = new Uint32Array(kept);
    const tfs = new Uint32Array(kept);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const row = all.rows[i]!;
      if (this.live[row] !== 1) continue;
      rows[w] = row;
      tfs[w++] = all.tfs[i]!;
    }
    return { rows, tfs };
  }
}
