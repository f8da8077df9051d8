// Merge policy: segment count and write amplification over a stream of flushes, the policy before
// issue 9 (tiers of 10, checked hourly or past 100 segments) next to today's (tiers of 4, tiny
// segments merged at once, checked after every flush, at most 16 segments). Pure: planMerges
// over segment metadata, no I/O. Merges are assumed to finish before the next flush, so this
// measures the policy, not merge throughput.
//
//   npx tsx bench/merge-policy.ts [--flush-secs 10]
import { parseArgs } from 'node:util';
import { planMerges, type MergePolicyOptions, type SegmentStats } from '../src/compaction/merge-policy.ts';
import { printTable, writeResult } from './lib/report.ts';

const { values: args } = parseArgs({ options: { 'flush-secs': { type: 'string', default: '10' } } });
// One 25k flush every 10 s is about the indexing rate measured in issue 9 (2.7k docs/s).
const FLUSH_SECS = Number(args['flush-secs']);
const MAX_TOTAL_DOCS = 1_000_000;

type Plan = (segments: readonly SegmentStats[]) => string[][];

/** The policy before issue 9, verbatim but for names: tiers by log10, merged only 10 at a time. */
function planMergesBefore(segments: readonly SegmentStats[], opts: { maxSegments: number; maxTotalDocs: number }): string[][] {
  const factor = 10;
  const used = new Set<string>();
  const groups: string[][] = [];
  const take = (group: SegmentStats[]) => {
    group.forEach((s) => used.add(s.id));
    groups.push(group.map((s) => s.id));
  };
  const bySize = [...segments].sort((a, b) => a.liveRows - b.liveRows || a.id.localeCompare(b.id));
  const mergeable = (s: SegmentStats) => !used.has(s.id) && s.liveRows < opts.maxTotalDocs;
  const tiers = new Map<number, SegmentStats[]>();
  for (const s of bySize.filter(mergeable)) {
    const tier = Math.floor(Math.log(Math.max(s.liveRows, 1)) / Math.log(factor));
    tiers.set(tier, [...(tiers.get(tier) ?? []), s]);
  }
  for (const list of tiers.values()) {
    if (list.length < factor) continue;
    let group: SegmentStats[] = [];
    let sum = 0;
    for (const s of list) {
      if (sum + s.liveRows > opts.maxTotalDocs || group.length === factor) {
        if (group.length >= factor) take(group);
        group = [];
        sum = 0;
      }
      group.push(s);
      sum += s.liveRows;
    }
    if (group.length >= factor) take(group);
  }
  const remaining = () => segments.length - groups.reduce((n, g) => n + g.length - 1, 0);
  while (remaining() > opts.maxSegments) {
    const free = bySize.filter(mergeable);
    const group: SegmentStats[] = [];
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
  }
  return groups;
}

interface Policy {
  name: string;
  plan: Plan;
  /** Whether the maintenance loop would run the plan now. */
  due: (segments: number, secsSinceLast: number) => boolean;
}

const NEW_OPTS: MergePolicyOptions = { maxSegments: 16, maxTotalDocs: MAX_TOTAL_DOCS };
const POLICIES: Policy[] = [
  {
    name: 'before (tiers of 10, hourly or > 100 segments)',
    plan: (s) => planMergesBefore(s, { maxSegments: 100, maxTotalDocs: MAX_TOTAL_DOCS }),
    due: (n, secs) => n > 100 || secs >= 3600,
  },
  {
    name: 'before, but checked after every flush',
    plan: (s) => planMergesBefore(s, { maxSegments: 100, maxTotalDocs: MAX_TOTAL_DOCS }),
    due: () => true,
  },
  { name: 'now (tiers of 4, tiny eager, ≤ 16, after every flush)', plan: (s) => planMerges(s, NEW_OPTS), due: () => true },
];

interface Stream { name: string; flushes: number; rows: (i: number) => number }

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const r = lcg(9);
const mixed = Array.from({ length: 1000 }, () => Math.max(1, Math.floor(50_000 * r() ** 3)));
const STREAMS: Stream[] = [
  { name: '200 flushes × 25k', flushes: 200, rows: () => 25_000 },
  { name: '2,000 flushes × 200', flushes: 2000, rows: () => 200 },
  { name: '1,000 flushes × 1–50k (skewed)', flushes: 1000, rows: (i) => mixed[i]! },
];

function simulate(stream: Stream, policy: Policy) {
  let segments: SegmentStats[] = [];
  let next = 0;
  let ingested = 0;
  let rewritten = 0;
  let merges = 0;
  let largestMerge = 0;
  let maxSegments = 0;
  let sumSegments = 0;
  let lastCheck = 0;
  for (let i = 0; i < stream.flushes; i++) {
    const rows = stream.rows(i);
    ingested += rows;
    segments.push({ id: `s${next++}`, rows, liveRows: rows });
    const now = (i + 1) * FLUSH_SECS;
    if (policy.due(segments.length, now - lastCheck)) {
      lastCheck = now;
      // Rounds until the plan is empty, as the maintenance loop's next ticks would.
      for (let plan = policy.plan(segments); plan.length > 0; plan = policy.plan(segments)) {
        const byId = new Map(segments.map((s) => [s.id, s]));
        for (const group of plan) {
          const live = group.reduce((n, id) => n + byId.get(id)!.liveRows, 0);
          rewritten += live;
          merges++;
          largestMerge = Math.max(largestMerge, live);
          segments = segments.filter((s) => !group.includes(s.id));
          segments.push({ id: `s${next++}`, rows: live, liveRows: live });
        }
      }
    }
    // Queries between this flush and the next see this many segments.
    maxSegments = Math.max(maxSegments, segments.length);
    sumSegments += segments.length;
  }
  return {
    stream: stream.name, policy: policy.name, ingested, maxSegments, meanSegments: sumSegments / stream.flushes,
    finalSegments: segments.length, merges, largestMerge, writeAmplification: rewritten / ingested,
  };
}

const results = STREAMS.flatMap((stream) => POLICIES.map((policy) => simulate(stream, policy)));
printTable(`merge policy over a stream of flushes (one every ${FLUSH_SECS} s; max_total_docs ${MAX_TOTAL_DOCS})`,
  ['stream / policy', 'max segs', 'mean segs', 'final segs', 'merges', 'largest merge', 'rows rewritten / ingested'],
  results.map((x) => [`${x.stream}: ${x.policy}`, x.maxSegments, x.meanSegments.toFixed(1), x.finalSegments, x.merges, x.largestMerge,
    x.writeAmplification.toFixed(2)]));
writeResult('merge-policy', { flushSecs: FLUSH_SECS, maxTotalDocs: MAX_TOTAL_DOCS, results });
