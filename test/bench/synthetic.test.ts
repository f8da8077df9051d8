// The scale benchmark's recall is only as good as its ground truth: the streaming scan over
// regenerated batches must find what a plain sort of the whole matrix finds, and the bodies it
// sends must hold exactly the vectors it scans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchBody, batchCount, batchVectors, clustered, exactNeighbours, queryVectors, recallAt } from '../../bench/lib/synthetic.ts';

const set = clustered({ docs: 2_500, dim: 8, seed: 3, batch: 1000, centres: 20, noise: 0.5 });

test('a batch regenerates bit for bit, and its body parses to the same ids and vectors', () => {
  assert.equal(batchCount(set), 3);
  assert.deepEqual(batchVectors(set, 2), batchVectors(set, 2));
  const last = batchVectors(set, 2);
  assert.equal(last.rows, 500);
  const docs = (JSON.parse(Buffer.from(batchBody(set, 2)).toString()) as { documents: Array<{ id: number; vector: number[] }> }).documents;
  assert.equal(docs.length, 500);
  docs.forEach((d, r) => {
    assert.equal(d.id, 2000 + r);
    assert.deepEqual(d.vector, Array.from(last.vectors.subarray(r * 8, (r + 1) * 8)));
  });
});

test('the streaming scan finds the same 10 nearest as sorting every document', () => {
  const all = Array.from({ length: batchCount(set) }, (_, b) => batchVectors(set, b));
  const queries = queryVectors(set, 5);
  const sorted = queries.map((q) => all
    .flatMap(({ first, rows, vectors }) => Array.from({ length: rows }, (_, r) => ({
      id: first + r,
      d: q.reduce((s, x, i) => s + (vectors[r * 8 + i]! - x) ** 2, 0),
    })))
    .sort((a, b) => a.d - b.d || a.id - b.id)
    .slice(0, 10)
    .map((h) => h.id));
  const streamed = exactNeighbours(set, queries, 10);
  assert.equal(recallAt(streamed, sorted), 1);
  assert.equal(recallAt(streamed.map((ids) => ids.slice(0, 5)), sorted), 0.5);
});
