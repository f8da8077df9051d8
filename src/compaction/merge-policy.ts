// Which segments to merge: a pure function over segment metadata, like tantivy's merge policy.
//
// 1. Tiers: segments are grouped by the order of magnitude (base mergeFactor) of their live row
//    count; a tier holding mergeFactor or more segments is merged, smallest first, so small
//    flush segments fold together long before big ones are rewritten (write amplification stays
//    logarithmic).
// 2. Count cap: while more than maxSegments would remain, the smallest remaining segments are
//    packed together.
// 3. Deletes: a segment with more than deletedRatio of its rows deleted is rewritten on its own.
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
  deletedRatio?: number;
}

export function planMerges(segments: readonly SegmentStats[], opts: MergePolicyOptions): string[][] {
  const factor = opts.mergeFactor ?? 10;
  const deletedRatio = opts.deletedRatio ?? 0.3;
  const used = new Set<string>();
  const groups: string[][] = [];
  const take = (group: SegmentStats[]) => {
    group.forEach((s) => used.add(s.id));
    groups.push(group.map((s) => s.id));
  };
  const bySize = [...segments].sort((a, b) => a.liveRows - b.liveRows || a.id.localeCompare(b.id));
  const mergeable = (s: SegmentStats) => !used.has(s.id) && s.liveRows < opts.maxTotalDocs;

  /** Packs segments (ascending size) into groups of ≥ 2 whose sum stays within maxTotalDocs. */
  const pack = (candidates: SegmentStats[], maxGroups: number, minGroupSize: number) => {
    let group: SegmentStats[] = [];
    let sum = 0;
    for (const s of candidates) {
      if (groups.length >= maxGroups) return;
      if (sum + s.liveRows > opts.maxTotalDocs || group.length === factor) {
        if (group.length >= minGroupSize) take(group);
        group = [];
        sum = 0;
      }
      group.push(s);
      sum += s.liveRows;
    }
    if (group.length >= minGroupSize && groups.length < maxGroups) take(group);
  };

  // 1. Tiers.
  const tiers = new Map<number, SegmentStats[]>();
  for (const s of bySize.filter(mergeable)) {
    const tier = Math.floor(Math.log(Math.max(s.liveRows, 1)) / Math.log(factor));
    const list = tiers.get(tier) ?? [];
    list.push(s);
    tiers.set(tier, list);
  }
  for (const list of tiers.values()) {
    if (list.length >= factor) pack(list, Infinity, factor);
  }

  // 2. Count cap: each group of g inputs removes g − 1 segments.
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

  // 3. Segments heavy with deletions.
  for (const s of bySize) {
    if (!used.has(s.id) && s.rows > 0 && (s.rows - s.liveRows) / s.rows > deletedRatio) take([s]);
  }
  return groups;
}
