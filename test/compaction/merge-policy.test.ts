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
