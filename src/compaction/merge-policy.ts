// Which segments to merge: a pure function over segment metadata, like tantivy's LogMergePolicy.
// Query cost grows with the segment count (4 / 8 / 12 segments of 25k: p50 1.5 / 2.1 / 3.1 ms,
// issue 9), so the policy keeps few segments while rewriting each row only O(log N) times.
//
// 1. Tiny segments (fewer than smallRows live rows, searched by exact scan) are merged together
//    as soon as there are two: such a merge builds no HNSW index and rewrites < smallRows rows.
// 2. Tiers: the other segments are grouped by the power of mergeFactor of liveRows / smallRows; a
//    tier holding mergeFactor or more segments is merged whole (packed by maxTotalDocs). The
//    output holds ≥ mergeFactor × the tier's floor, so it lands at least one tier up: a row is
//    rewritten at most once per tier, log_mergeFactor(maxTotalDocs / smallRows) + 1 times (7 for
//    the defaults), and at most mergeFactor − 1 segments stay in each tier.
//    Near the cap a tier may not pack into full groups; a group still goes if its output would
//    hold at least half of maxTotalDocs, and such a segment is not merged again by tiers.
// 3. Count cap: while more than maxSegments would remain, the smallest remaining segments are
//    packed together.
// 4. Deletes: a segment with more than deletedRatio of its rows deleted is rewritten on its own.
// No merged output exceeds maxTotalDocs live rows; a segment already at that size is never an
// input except to drop its deletions.

export interface SegmentStats {
  id: string;
  rows: number;
  liveRows: number;
}

export interface MergePolicyOptions {
  maxSegments: number;
  maxTotalDocs: number;
  mergeFactor?: number;
  /** Below this many live rows a segment is merged eagerly (the exact-scan threshold, segments.md). */
  smallRows?: number;
  deletedRatio?: number;
}

export const MERGE_FACTOR = 4;
export const SMALL_ROWS = 256;

export function planMerges(segments: readonly SegmentStats[], opts: MergePolicyOptions): string[][] {
  const factor = opts.mergeFactor ?? MERGE_FACTOR;
  const smallRows = opts.smallRows ?? SMALL_ROWS;
  const deletedRatio = opts.deletedRatio ?? 0.3;
  const bigEnough = opts.maxTotalDocs / 2;
  const used = new Set<string>();
  const groups: string[][] = [];
  const take = (group: SegmentStats[]) => {
    group.forEach((s) => used.add(s.id));
    groups.push(group.map((s) => s.id));
  };
  const bySize = [...segments].sort((a, b) => a.liveRows - b.liveRows || a.id.localeCompare(b.id));
  const mergeable = (s: SegmentStats) => !used.has(s.id) && s.liveRows < opts.maxTotalDocs;

  /** Packs segments (ascending size) into groups whose sum stays within maxTotalDocs; keeps those `ok` accepts. */
  const pack = (candidates: SegmentStats[], ok: (group: SegmentStats[], sum: number) => boolean) => {
    let group: SegmentStats[] = [];
    let sum = 0;
    for (const s of candidates) {
      if (sum + s.liveRows > opts.maxTotalDocs) {
        if (ok(group, sum)) take(group);
        group = [];
        sum = 0;
      }
      group.push(s);
      sum += s.liveRows;
    }
    if (ok(group, sum)) take(group);
  };

  // 1. Tiny segments.
  pack(bySize.filter((s) => mergeable(s) && s.liveRows < smallRows), (g) => g.length >= 2);

  // 2. Tiers.
  const tiers = new Map<number, SegmentStats[]>();
  for (const s of bySize.filter((s) => mergeable(s) && s.liveRows < bigEnough)) {
    const tier = Math.floor(Math.log(s.liveRows / smallRows) / Math.log(factor));
    const list = tiers.get(tier) ?? [];
    list.push(s);
    tiers.set(tier, list);
  }
  for (const list of tiers.values()) {
    if (list.length >= factor) pack(list, (g, sum) => g.length >= factor || (g.length >= 2 && sum >= bigEnough));
  }

  // 3. Count cap: each group of g inputs removes g − 1 segments.
  const remaining = () => segments.length - groups.reduce((n, g) => n + g.length - 1, 0);
  while (remaining() > opts.maxSegments) {
    const free = bySize.filter(mergeable);
    if (free.length < 2) break;
    const before = groups.length;
    let group: SegmentStats[] = [];
    let sum = 0;
    const excess = remaining() - opts.maxSegments;
    for (const s of free) {
      if (sum + s.liveRows > opts.maxTotalDocs) break;
      group.push(s);
      sum += s.liveRows;
      if (group.length - 1 >= excess) break;
    }
    if (group.length < 2) break;
    take(group);
    if (groups.length === before) break;
  }

  // 4. Segments heavy with deletions.
  for (const s of bySize) {
    if (!used.has(s.id) && s.rows > 0 && (s.rows - s.liveRows) / s.rows > deletedRatio) take([s]);
  }
  return groups;
}
