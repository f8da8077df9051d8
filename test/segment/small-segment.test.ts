// Segments with fewer than EXACT_SCAN_ROWS vector rows carry no HNSW index: their vector search
// is an exact scan, so it equals brute force exactly, for every metric, with filters and
// deleted rows. Larger segments, and small segments written with an index, still use HNSW.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distance, norm } from '../../src/segment/distance.ts';
import type { VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, EXACT_SCAN_ROWS, mergeInputs, type SegmentReader } from '../../src/segment/index.ts';
import { LiveSegment } from '../../src/segment/live-segment.ts';
import { openBytes, randomInput, rng } from './helpers.ts';

const DIM = 16;
const K = 10;
const EF = 64;

/** The k nearest accepted rows with a vector, by a plain sort: (distance, row) ascending. */
function bruteForce(reader: SegmentReader, metric: VectorMetric, q: Float32Array, k: number, accept: (row: number) => boolean) {
  const data = reader.vectorData();
  const qn = norm(q);
  const all: Array<{ row: number; d: number }> = [];
  for (let row = 0; row < reader.rows; row++) {
    const off = reader.vectorOffset(row);
    if (off >= 0 && accept(row)) all.push({ row, d: distance(metric, q, qn, data, off, reader.vectorNorm(row)) });
  }
  all.sort((a, b) => a.d - b.d || a.row - b.row);
  const top = all.slice(0, k);
  return { rows: top.map((x) => x.row), distances: top.map((x) => x.d) };
}

function queries(seed: number, n: number): Float32Array[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => new Float32Array(DIM).map(() => rand() * 2 - 1));
}

for (const metric of ['cosine', 'l2', 'dot'] as const) {
  test(`${metric}: a small segment has no HNSW index and searches exactly like brute force`, async () => {
    const input = randomInput({ rows: EXACT_SCAN_ROWS - 1, dim: DIM, metric, seed: metric.length + 11 });
    assert.ok(input.ids.length < EXACT_SCAN_ROWS);
    const { bytes, meta } = await buildSegment(input);
    assert.equal(meta.sections.hnsw, undefined);
    const reader = await openBytes(bytes, input.schema);
    assert.equal(reader.hasHnsw, false);
    // Rows 0, 5, 10, … deleted: LiveSegment passes liveness to the reader as the filter.
    const segment = new LiveSegment('s', reader, Array.from({ length: 50 }, (_, i) => i * 5));
    const count = reader.column('count')!;
    const positive = (row: number) => { const v = count.value(row); return typeof v === 'number' && v > 0; };
    const everyRow = () => true;
    for (const q of queries(metric.length, 20)) {
      assert.deepEqual(reader.searchVector(q, K, EF), bruteForce(reader, metric, q, K, everyRow));
      assert.deepEqual(reader.searchVector(q, 1000, EF), bruteForce(reader, metric, q, 1000, everyRow));
      assert.deepEqual(segment.annSearch(q, K, EF), bruteForce(reader, metric, q, K, (r) => segment.isLive(r)));
      const filtered = (r: number) => segment.isLive(r) && positive(r);
      assert.deepEqual(segment.annSearch(q, K, EF, filtered), bruteForce(reader, metric, q, K, filtered));
      // The search-then-filter path of broad filters: the k nearest kept rows come first.
      const wide = segment.annThenFilter(q, 3 * K, EF, filtered);
      assert.deepEqual(wide, bruteForce(reader, metric, q, 3 * K, filtered));
      // A filter nothing passes: no rows, not an error.
      assert.deepEqual(reader.searchVector(q, K, EF, () => false), { rows: [], distances: [] });
    }
    reader.close();
    assert.throws(() => reader.searchVector(new Float32Array(DIM), K, EF), /after close/);
  });
}

test('a segment of EXACT_SCAN_ROWS vector rows still gets an HNSW index', async () => {
  const input = randomInput({ rows: EXACT_SCAN_ROWS, dim: 4, metric: 'l2', seed: 5, vectorShare: 1 });
  const { bytes, meta } = await buildSegment(input);
  assert.notEqual(meta.sections.hnsw, undefined);
  const reader = await openBytes(bytes, input.schema);
  assert.equal(reader.hasHnsw, true);
  const q = new Float32Array([0.1, -0.2, 0.3, 0.4]);
  const found = reader.searchVector(q, K, EF);
  assert.equal(found.rows.length, K);
  assert.deepEqual(found.distances, reader.exactSearch(q, K, found.rows).distances);
  reader.close();
});

test('a merge of small segments gets an HNSW index once it reaches EXACT_SCAN_ROWS', async () => {
  const half = Math.ceil(EXACT_SCAN_ROWS / 2);
  const parts = await Promise.all([1, 2].map(async (seed) => {
    const input = randomInput({ rows: half, dim: 4, metric: 'dot', seed, vectorShare: 1 });
    // Distinct ids across the two parts, as a namespace's live rows are.
    input.ids = input.ids.map((_, r) => `p${seed}-${r}`);
    const { bytes, meta } = await buildSegment(input);
    assert.equal(meta.sections.hnsw, undefined);
    return { reader: await openBytes(bytes, input.schema), live: new Uint8Array(half).fill(1) };
  }));
  const merged = await buildSegment(mergeInputs(parts, { m: 16, efConstruction: 100, seed: 42 }));
  assert.notEqual(merged.meta.sections.hnsw, undefined);
  for (const p of parts) p.reader.close();
});

test('a small segment written with an HNSW index (older builds) still loads and searches it', async () => {
  const input = randomInput({ rows: EXACT_SCAN_ROWS - 1, dim: DIM, metric: 'cosine', seed: 8 });
  const { bytes, meta } = await buildSegment({ ...input, exactScanBelow: 0 });
  assert.notEqual(meta.sections.hnsw, undefined);
  const reader = await openBytes(bytes, input.schema);
  assert.equal(reader.hasHnsw, true);
  let hits = 0;
  const qs = queries(3, 20);
  for (const q of qs) {
    const truth = bruteForce(reader, 'cosine', q, K, () => true);
    const got = reader.searchVector(q, K, EF);
    assert.deepEqual(got.distances, reader.exactSearch(q, K, got.rows).distances);
    hits += got.rows.filter((r) => truth.rows.includes(r)).length;
  }
  assert.ok(hits / (qs.length * K) >= 0.95, `recall@10 ${hits / (qs.length * K)}`);
  reader.close();
});
