// Segments written before the IVF vectors moved to `ivf.vectors` keep each cluster's float32
// vectors in its block (`ivf.clusters`). fixtures/ivf-blocks.seg is one, written by the
// builder of commit 4b9e111: 600 rows × 8-d cosine (row 5 without a vector), ids 0..599, 50-row
// clusters, vectors from rng(2026) as below. It must stay readable: search, get and compaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { scanNearest } from '../../src/segment/vector-search.ts';
import { openBytes, rng } from './helpers.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';

const ROWS = 600;
const DIM = 8;
const schema: NamespaceSchema = { vector_dim: DIM, vector_metric: 'cosine', attributes: {} };

function fixture(): { bytes: Buffer; vectors: Float32Array } {
  const rand = rng(2026);
  const vectors = new Float32Array(ROWS * DIM).map(() => rand() * 2 - 1);
  return { bytes: readFileSync(new URL('./fixtures/ivf-blocks.seg', import.meta.url)), vectors };
}

test('an IVF segment of the blocks layout (ivf.clusters) is still searched, read by row and loaded whole', async () => {
  const { bytes, vectors } = fixture();
  const reader = await openBytes(bytes, schema);
  assert.equal(reader.hasIvf, true);
  assert.notEqual(reader.meta.sections['ivf.clusters'], undefined, 'the fixture is of the old layout');
  assert.equal(reader.meta.sections['ivf.codes'], undefined);

  const one = await reader.vectorsOf([123, 5]);
  assert.deepEqual(one.data.subarray(one.offset(123), one.offset(123) + DIM), vectors.subarray(123 * DIM, 124 * DIM));
  assert.equal(one.has(5), false, 'row 5 has no vector');

  // Every cluster probed: the exact top 10, as a brute-force scan of the same vectors finds it.
  const truth = { rows: ROWS, data: vectors, norms: new Float32Array(ROWS).map((_, r) => Math.hypot(...vectors.subarray(r * DIM, r * DIM + DIM))),
    offset: (r: number) => (r === 5 ? -1 : r * DIM), has: (r: number) => r !== 5 };
  const rand = rng(7);
  for (let i = 0; i < 10; i++) {
    const q = new Float32Array(DIM).map(() => rand() * 2 - 1);
    const got = await reader.search(q, 10, 128, undefined, 100);
    const want = scanNearest('cosine', q, truth, 10);
    assert.deepEqual(got.rows, want.rows, `query ${i}`);
    got.distances.forEach((d, j) => assert.ok(Math.abs(d - want.distances[j]!) < 1e-5));
  }

  await reader.loadVectors();
  for (const row of [0, 299, 599]) {
    const off = reader.vectorOffset(row);
    assert.deepEqual(reader.vectorData().subarray(off, off + DIM), vectors.subarray(row * DIM, row * DIM + DIM));
  }
  assert.equal(reader.vectorOffset(5), -1);
  assert.equal(reader.id(599), 599n);
  reader.close();
});
