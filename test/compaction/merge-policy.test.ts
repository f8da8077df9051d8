import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMerges, type SegmentStats } from '../../src/compaction/merge-policy.ts';
import { rng } from '../support/app.ts';

const seg = (id: string, liveRows: number, rows = liveRows): SegmentStats => ({ id, rows, liveRows });

function apply(segments: SegmentStats[], groups: string[][]): SegmentStats[] {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const merged = new Set(groups.flat());
  const out = segments.filter((s) => !merged.has(s.id));
  groups.forEach((g, i) => {
    const live = g.reduce((n, id) => n + byId.get(id)!.liveRows, 0);
    out.push(seg(`m${i}`, live));
  });
  return out;
}

test('nothing to do for a few healthy segments', () => {
  assert.deepEqual(planMerges([seg('a', 1000), seg('b', 50_000)], { maxSegments: 10, maxTotalDocs: 1_000_000 }), []);
});

test('ten small flush segments of one tier are merged together', () => {
  const segments = Array.from({ length: 10 }, (_, i) => seg(`s${i}`, 5000 + i));
  const groups = planMerges(segments, { maxSegments: 100, maxTotalDocs: 1_000_000 });
  assert.equal(groups.length, 1);
  assert.equal(groups[0]!.length, 10);
});

test('a segment with many deletions is rewritten alone', () => {
  assert.deepEqual(planMerges([seg('a', 100, 1000), seg('b', 900)], { maxSegments: 10, maxTotalDocs: 10_000 }), [['a']]);
});

test('randomized: every input once, no output above maxTotalDocs, count at or under maxSegments when possible', () => {
  const r = rng(11);
  for (let t = 0; t < 500; t++) {
    const maxTotalDocs = 1000 + Math.floor(r() * 100_000);
    const maxSegments = 1 + Math.floor(r() * 20);
    const segments = Array.from({ length: Math.floor(r() * 60) }, (_, i) => {
      const rows = 1 + Math.floor(r() * maxTotalDocs);
      return seg(`s${i}`, Math.floor(rows * (0.5 + r() / 2)), rows);
    });
    const groups = planMerges(segments, { maxSegments, maxTotalDocs });
    const ids = groups.flat();
    assert.equal(new Set(ids).size, ids.length, 'a segment appears in one group at most');
    const byId = new Map(segments.map((s) => [s.id, s]));
    for (const g of groups) {
      const live = g.reduce((n, id) => n + byId.get(id)!.liveRows, 0);
      assert.ok(g.length === 1 || live <= maxTotalDocs, `merged ${live} > ${maxTotalDocs}`);
    }
    // Applying the plan repeatedly converges to ≤ maxSegments unless segments are too big to pack.
    let state = segments;
    for (let round = 0; round < 50; round++) {
      const plan = planMerges(state, { maxSegments, maxTotalDocs });
      if (plan.length === 0) break;
      state = apply(state, plan);
    }
    const small = state.filter((s) => s.liveRows * 2 <= maxTotalDocs).length;
    assert.ok(state.length <= maxSegments || small <= 1, `${state.length} segments left, ${small} small`);
  }
});

test('tiny segments (exact-scan size) are merged together at once; a lone tiny one waits', () => {
  assert.deepEqual(planMerges([seg('a', 10), seg('b', 200), seg('c', 50_000)], { maxSegments: 100, maxTotalDocs: 1_000_000 }), [['a', 'b']]);
  assert.deepEqual(planMerges([seg('a', 10), seg('c', 50_000), seg('d', 60_000)], { maxSegments: 100, maxTotalDocs: 1_000_000 }), []);
});

test('four segments of one tier are merged; three wait', () => {
  const four = [seg('a', 25_000), seg('b', 25_000), seg('c', 26_000), seg('d', 27_000)];
  assert.deepEqual(planMerges(four, { maxSegments: 100, maxTotalDocs: 1_000_000 }), [['a', 'b', 'c', 'd']]);
  assert.deepEqual(planMerges(four.slice(1), { maxSegments: 100, maxTotalDocs: 1_000_000 }), []);
});

/** Flushes `sizes` one by one, applying the plan after each until it is empty, as maintenance does. */
function stream(sizes: number[], maxTotalDocs: number) {
  let state: SegmentStats[] = [];
  let next = 0;
  let ingested = 0;
  let rewritten = 0;
  let maxCount = 0;
  for (const rows of sizes) {
    ingested += rows;
    state.push(seg(`f${next++}`, rows));
    for (let plan = planMerges(state, { maxSegments: Infinity, maxTotalDocs }); plan.length > 0;
      plan = planMerges(state, { maxSegments: Infinity, maxTotalDocs })) {
      const byId = new Map(state.map((s) => [s.id, s]));
      for (const g of plan) {
        const live = g.reduce((n, id) => n + byId.get(id)!.liveRows, 0);
        assert.ok(live <= maxTotalDocs, `merged ${live} > max_total_docs ${maxTotalDocs}`);
        rewritten += live;
        state = state.filter((s) => !g.includes(s.id));
        state.push(seg(`m${next++}`, live));
      }
    }
    // The bound: ≤ 1 tiny segment, ≤ 3 per tier of powers of 4 from 256 rows up to the total,
    // and the segments of at least half of max_total_docs that the output cap forces.
    const total = ingested;
    const tiers = Math.floor(Math.log(Math.max(total, 256) / 256) / Math.log(4)) + 1;
    const bound = 1 + 3 * tiers + Math.floor(total / (maxTotalDocs / 2));
    assert.ok(state.length <= bound, `${state.length} segments for ${total} docs; bound ${bound}`);
    maxCount = Math.max(maxCount, state.length);
  }
  return { ingested, rewritten, maxCount, final: state };
}

test('randomized flush streams: segment count logarithmic in the docs, each row rewritten O(log N) times', () => {
  const r = rng(23);
  for (let t = 0; t < 40; t++) {
    const maxTotalDocs = 10_000 + Math.floor(r() * 1_000_000);
    const flushMax = 1 + Math.floor(r() * 30_000);
    const sizes = Array.from({ length: 50 + Math.floor(r() * 250) }, () => 1 + Math.floor(flushMax * r() ** 2));
    const { ingested, rewritten } = stream(sizes, maxTotalDocs);
    // Once per tier up to max_total_docs, once more into the ≥ half-cap segments, and the tiny
    // stage rewrites fewer than 2 × 256 rows per flush.
    const tiers = Math.ceil(Math.log(maxTotalDocs / 256) / Math.log(4)) + 1;
    assert.ok(rewritten <= ingested * (tiers + 1) + sizes.length * 512, `rewrote ${rewritten} rows for ${ingested} ingested (${tiers} tiers)`);
  }
});

test('200 flushes of 25k stay under 16 segments and rewrite each row about 3 times', () => {
  const { ingested, rewritten, maxCount, final } = stream(Array.from({ length: 200 }, () => 25_000), 1_000_000);
  assert.ok(maxCount <= 16, `${maxCount} segments at most`);
  assert.ok(final.every((s) => s.liveRows <= 1_000_000));
  assert.ok(rewritten / ingested <= 4, `write amplification ${rewritten / ingested}`);
});
