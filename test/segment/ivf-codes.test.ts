// The IVF scan codes (ivf.ts): what each code kind estimates, measured where it matters: a
// cluster of many rows around each query, whose true neighbours are barely nearer than the
// rest of it, so that only the best few hundred code estimates are re-ranked exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, type SegmentInput, type SegmentReader } from '../../src/segment/index.ts';
import type { CodeKind } from '../../src/segment/ivf.ts';
import { openBytes, rng, schemaOf } from './helpers.ts';

const K = 10;
const DIM = 128;

/** `rows` rows around `centres` gaussian centres (unit variance), noise 0.5 a dimension: 1,000 rows a centre at 20k / 20. */
function blobs(opts: { rows: number; centres: number; metric: VectorMetric; seed: number; codes?: CodeKind }) {
  const rand = rng(opts.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: opts.centres }, () => Float32Array.from({ length: DIM }, gauss));
  const point = () => {
    const c = centres[Math.floor(rand() * centres.length)]!;
    return Float32Array.from(c, (x) => x + 0.5 * gauss());
  };
  const vectors = new Float32Array(opts.rows * DIM);
  for (let r = 0; r < opts.rows; r++) vectors.set(point(), r * DIM);
  const input: SegmentInput = {
    schema: schemaOf(DIM, opts.metric),
    ids: Array.from({ length: opts.rows }, (_, r) => BigInt(r)),
    vectors,
    hasVector: new Uint8Array(opts.rows).fill(1),
    attributes: Array.from({ length: opts.rows }, () => ({})),
    hnsw: { m: 16, efConstruction: 100, seed: 3 },
    ivfFrom: 0,
    ...(opts.codes !== undefined ? { ivfCodes: opts.codes } : {}),
  };
  return { input, queries: Array.from({ length: 40 }, point) };
}

async function recall(reader: SegmentReader, queries: Float32Array[], nprobe: number): Promise<number> {
  const all = Array.from({ length: reader.rows }, (_, r) => r);
  let found = 0;
  for (const q of queries) {
    const exact = reader.exactSearch(q, K, all);
    const got = await reader.search(q, K, 128, undefined, nprobe);
    assert.deepEqual(got.distances, reader.exactSearch(q, K, got.rows).distances, 'distances are exact, nearest first');
    found += got.rows.filter((r) => exact.rows.includes(r)).length;
  }
  return found / (queries.length * K);
}

for (const metric of ['l2', 'cosine'] as const) {
  test(`${metric}: rabitq codes (the default) keep recall@10 ≥ 0.99 where 1,000 rows crowd each query; probing more cannot make up for coarse estimates`, async () => {
    const { input, queries } = blobs({ rows: 20_000, centres: 20, metric, seed: 5 });
    const built = await buildSegment(input);
    const reader = await openBytes(built.bytes, input.schema);
    assert.equal(reader.hasIvf, true);
    await reader.loadVectors(); // for exactSearch, the reference
    // Measured at this size: the older bits estimator (q·r from the signs against q itself)
    // stayed at 0.93 (l2) at every nprobe from 8 to 1,000; rabitq reached 1.00.
    for (const nprobe of [16, 64]) {
      const r = await recall(reader, queries, nprobe);
      assert.ok(r >= 0.99, `recall@10 ${r} at nprobe ${nprobe}`);
    }
  });
}

test('segments written with the older bits codes still open and search with exact distances', async () => {
  const { input, queries } = blobs({ rows: 12_000, centres: 200, metric: 'l2', codes: 'bits', seed: 8 });
  const built = await buildSegment(input);
  const rabitq = await buildSegment({ ...input, ivfCodes: 'rabitq' });
  // bits: a 4-byte factor a row; rabitq: the factor and a 4-byte offset; each block padded to 8 bytes either way.
  const more = rabitq.meta.sections['ivf.codes']!.length - built.meta.sections['ivf.codes']!.length;
  const reader = await openBytes(built.bytes, input.schema);
  const clusters = reader.ivfDirectory!.clusters;
  assert.ok(Math.abs(more - 4 * 12_000) <= 4 * clusters, `rabitq codes are ${more} bytes longer over ${clusters} blocks`);
  await reader.loadVectors();
  // 60 rows a centre: the 400 best estimates hold them all, so bits codes are still exact here.
  assert.ok((await recall(reader, queries, 16)) >= 0.99);
  // Every cluster probed: the exact nearest rows.
  const all = Array.from({ length: reader.rows }, (_, r) => r);
  assert.deepEqual((await reader.search(queries[0]!, K, 128, undefined, 100_000)).rows, reader.exactSearch(queries[0]!, K, all).rows);
});
