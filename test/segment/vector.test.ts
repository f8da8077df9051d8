import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distance, norm } from '../../src/segment/distance.ts';
import type { NamespaceSchema, VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, type SegmentReader } from '../../src/segment/index.ts';
import { openBytes, rng } from './helpers.ts';

const ROWS = 2000;
const DIM = 32;
const K = 10;

async function segmentOf(metric: VectorMetric, seed: number) {
  const rand = rng(seed);
  const schema: NamespaceSchema = { vector_dim: DIM, vector_metric: metric, attributes: {} };
  const vectors = new Float32Array(ROWS * DIM).map(() => rand() * 2 - 1);
  const hasVector = new Uint8Array(ROWS).map((_, r) => (r % 50 === 7 ? 0 : 1)); // some rows without vectors
  const { bytes } = await buildSegment({
    schema,
    ids: Array.from({ length: ROWS }, (_, r) => BigInt(r)),
    vectors,
    hasVector,
    attributes: Array.from({ length: ROWS }, () => ({})),
    hnsw: { m: 16, efConstruction: 100, seed: 7 },
  });
  const reader = await openBytes(bytes, schema);
  const queries = Array.from({ length: 40 }, () => new Float32Array(DIM).map(() => rand() * 2 - 1));
  return { reader, vectors, hasVector, queries };
}

function allRows(reader: SegmentReader): number[] {
  return Array.from({ length: reader.rows }, (_, r) => r);
}

for (const metric of ['cosine', 'l2', 'dot'] as const) {
  test(`${metric}: recall@10 ≥ 0.95 at ef 64, with exact distances`, async () => {
    const { reader, vectors, hasVector, queries } = await segmentOf(metric, metric.length);
    let found = 0;
    for (const q of queries) {
      const exact = reader.exactSearch(q, K, allRows(reader));
      const approx = reader.searchVector(q, K, 64);
      assert.equal(approx.rows.length, K);
      const truth = new Set(exact.rows);
      found += approx.rows.filter((r) => truth.has(r)).length;
      // Distances are Silt's, recomputed from the raw vectors, nearest first.
      assert.deepEqual(approx.distances, reader.exactSearch(q, K, approx.rows).distances);
      const qn = norm(q);
      approx.rows.forEach((row, i) => {
        assert.equal(hasVector[row], 1);
        assert.equal(approx.distances[i], distance(metric, q, qn, vectors, row * DIM, Math.fround(norm(vectors, row * DIM, DIM))));
      });
      for (let i = 1; i < K; i++) assert.ok(approx.distances[i - 1]! <= approx.distances[i]!);
    }
    const recall = found / (queries.length * K);
    assert.ok(recall >= 0.95, `recall@10 ${recall}`);
    reader.close();
  });
}

test('accept is honoured and results are refilled to k', async () => {
  const { reader, queries } = await segmentOf('cosine', 99);
  for (const q of queries.slice(0, 10)) {
    // Broad filter: the graph search finds them.
    const third = reader.searchVector(q, K, 64, (r) => r % 3 === 0);
    assert.equal(third.rows.length, K);
    assert.ok(third.rows.every((r) => r % 3 === 0));
    assert.deepEqual(third.distances, reader.exactSearch(q, K, third.rows).distances);

    // Selective filter (15 rows, 0.75%): HNSW alone comes back short; the result is still k
    // rows, and exactly the k nearest accepted ones.
    const few = new Set(Array.from({ length: 15 }, (_, i) => i * 131));
    const got = reader.searchVector(q, K, 64, (r) => few.has(r));
    assert.deepEqual(got, reader.exactSearch(q, K, few));
    assert.equal(got.rows.length, K);

    // Fewer accepted rows than k: all of them. Rows without a vector are never returned.
    const tiny = new Set([5, 7, 57, 300]);
    const small = reader.searchVector(q, K, 64, (r) => tiny.has(r));
    assert.deepEqual([...small.rows].sort((a, b) => a - b), [5, 300]);
  }
  reader.close();
});

test('k larger than the segment and an exception in accept', async () => {
  const { reader, queries } = await segmentOf('l2', 5);
  const q = queries[0]!;
  const all = reader.searchVector(q, 5000, 16);
  assert.equal(all.rows.length, ROWS - ROWS / 50);
  assert.throws(() => reader.searchVector(q, K, 64, () => { throw new Error('filter broke'); }), /filter broke/);
  assert.throws(() => reader.searchVector(new Float32Array(3), K, 64), /3 dimensions/);
  reader.close();
  assert.throws(() => reader.searchVector(q, K, 64), /after close/);
});
