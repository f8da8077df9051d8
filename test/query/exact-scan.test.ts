// The tail's exact scan (and a filtered segment's candidates) must rank and score exactly as
// distance() does, whatever the metric: a document keeps its score when its tail row is folded
// into a segment, and the early abandoning of L2 must never drop a row that belongs in the top k.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanExact } from '../../src/query/exact-scan.ts';
import { TopK } from '../../src/query/topk.ts';
import { distance, norm } from '../../src/segment/distance.ts';
import { seededRandom } from '../../src/segment/kmeans.ts';

const DIM = 37; // not a multiple of the abandon check interval

function data(rows: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(rows * DIM);
  // Few distinct values: many rows tie at the same distance, so tie order is exercised too.
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 5) - 2;
  return out;
}

for (const metric of ['l2', 'cosine', 'dot'] as const) {
  test(`${metric}: the same top k, keys and scores as distance() over every row`, () => {
    const rows = 3000;
    const vectors = data(rows, 11);
    // Stored as float32, as the tail and segments keep them (a hair off the true norm).
    const norms = Array.from({ length: rows }, (_, r) => Math.fround(norm(vectors, r * DIM, DIM)));
    const rand = seededRandom(5);
    for (let q = 0; q < 20; q++) {
      const query = Float32Array.from({ length: DIM }, () => Math.floor(rand() * 5) - 2);
      const qNorm = norm(query);
      const candidates = Array.from({ length: rows }, (_, r) => r).filter((r) => r % 7 !== 3);
      // Every 11th row has no vector.
      const offsetOf = (row: number) => (row % 11 === 0 ? -1 : row * DIM);
      for (const k of [1, 10, 100]) {
        const expected = new TopK(k);
        for (const row of candidates) {
          if (offsetOf(row) < 0) continue;
          expected.push(1000 + row, -distance(metric, query, qNorm, vectors, row * DIM, norms[row]!));
        }
        const got = new TopK(k);
        scanExact({ metric, query, qNorm, data: vectors, rows: candidates, offsetOf, normOf: (row) => norms[row]!, keyBase: 1000 }, got);
        assert.deepEqual(got.sorted(), expected.sorted(), `query ${q}, k ${k}`);
      }
    }
  });
}
