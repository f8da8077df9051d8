import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeQuery } from '../../src/query/executor.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { NamespaceSchema, VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, mergeInputs, type SegmentInput, type SegmentReader } from '../../src/segment/index.ts';
import { LiveSegment } from '../../src/segment/live-segment.ts';
import { openBytes, randomInput, rng, withoutNulls } from './helpers.ts';

const K = 10;
const LIMITS = { default_top_k: 10, max_top_k: 1000 };

/** Gaussian blobs (as real embeddings cluster), one integer attribute `pct` uniform in 0..99. */
function clustered(opts: { rows: number; dim: number; metric: VectorMetric; seed: number }): SegmentInput {
  const rand = rng(opts.seed);
  const { rows, dim } = opts;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centers = Array.from({ length: 30 }, () => Array.from({ length: dim }, () => gauss() * 0.6));
  const vectors = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = centers[Math.floor(rand() * centers.length)]!;
    for (let d = 0; d < dim; d++) vectors[r * dim + d] = c[d]! + gauss();
  }
  const schema: NamespaceSchema = {
    vector_dim: dim,
    vector_metric: opts.metric,
    attributes: { pct: { type: 'integer', full_text: null, filterable: true } },
  };
  return {
    schema,
    ids: Array.from({ length: rows }, (_, r) => BigInt(r)),
    vectors,
    hasVector: new Uint8Array(rows).fill(1),
    attributes: Array.from({ length: rows }, () => ({ pct: Math.floor(rand() * 100) })),
    hnsw: { m: 16, efConstruction: 100, seed: 3 },
    ivfFrom: 0,
    ivfClusterRows: 64,
  };
}

function allRows(reader: SegmentReader): number[] {
  return Array.from({ length: reader.rows }, (_, r) => r);
}

test('an IVF segment round-trips every id, attribute and vector, and stores each vector once', async () => {
  const input = { ...randomInput({ rows: 700, dim: 12, metric: 'l2', seed: 21 }), ivfFrom: 0, ivfClusterRows: 50 };
  const { bytes, meta } = await buildSegment(input);
  assert.notEqual(meta.sections.ivf, undefined);
  assert.equal(meta.sections.vectors, undefined, 'no separate vectors section');
  assert.equal(meta.sections.hnsw, undefined);
  const withVector = input.hasVector.reduce((n, h) => n + h, 0);
  // Codes: 4-byte row + 2-byte rabitq code (16 rotated dims) + 4-byte factor + 4-byte offset + 4-byte norm + padding per cluster;
  // vectors: one float32 record + its 4-byte CRC per row with a vector, nothing else; rows: a norm and a slot per row.
  assert.ok(meta.sections['ivf.codes']!.length <= withVector * 18 + 8 * 64, `codes section is ${meta.sections['ivf.codes']!.length} bytes`);
  assert.equal(meta.sections['ivf.vectors']!.length, withVector * (12 * 4 + 4));
  assert.equal(meta.sections['ivf.rows']!.length, input.ids.length * 8);
  const reader = await openBytes(bytes, input.schema);
  assert.equal(reader.hasIvf, true);
  await reader.loadVectors();
  for (let row = 0; row < input.ids.length; row++) {
    assert.equal(reader.id(row), input.ids[row]);
    assert.deepEqual(reader.attributes(row), withoutNulls(input.attributes[row]!));
    const off = reader.vectorOffset(row);
    if (input.hasVector[row] !== 1) {
      assert.equal(off, -1, `row ${row} has no vector`);
      continue;
    }
    assert.deepEqual(reader.vectorData().subarray(off, off + 12), input.vectors.subarray(row * 12, row * 12 + 12), `row ${row}'s vector`);
  }
  // Compaction reads the vectors back through the same accessors.
  const merged = mergeInputs([{ reader, live: new Uint8Array(reader.rows).fill(1) }], input.hnsw);
  for (let row = 0; row < input.ids.length; row++) {
    if (input.hasVector[row] !== 1) continue;
    assert.deepEqual(merged.vectors.subarray(row * 12, row * 12 + 12), input.vectors.subarray(row * 12, row * 12 + 12));
  }
  // A probe of every cluster finds the exact nearest rows.
  const q = new Float32Array(12).map((_, i) => Math.sin(i));
  await reader.loadVectors();
  assert.deepEqual(await reader.search(q, K, 128, undefined, 1_000), reader.exactSearch(q, K, allRows(reader)));
});

for (const metric of ['cosine', 'l2', 'dot'] as const) {
  test(`${metric}: IVF recall@10 ≥ 0.95 against brute force at ef 64 (32 probes of 64-row clusters), with exact distances`, async () => {
    const input = clustered({ rows: 4000, dim: 24, metric, seed: metric.length });
    const reader = await openBytes((await buildSegment(input)).bytes, input.schema);
    assert.equal(reader.hasIvf, true);
    await reader.loadVectors(); // for exactSearch, the reference
    const rand = rng(99);
    let found = 0;
    const queries = 50;
    for (let i = 0; i < queries; i++) {
      const base = Math.floor(rand() * 4000) * 24;
      const q = input.vectors.slice(base, base + 24).map((x) => x + (rand() - 0.5) * 0.5);
      const exact = reader.exactSearch(q, K, allRows(reader));
      const got = await reader.search(q, K, 64);
      assert.deepEqual(got.distances, reader.exactSearch(q, K, got.rows).distances, 'distances are exact, nearest first');
      found += got.rows.filter((r) => exact.rows.includes(r)).length;
    }
    assert.ok(found / (queries * K) >= 0.95, `recall@10 ${found / (queries * K)}`);
  });
}

test('filtered IVF search keeps recall@10 ≥ 0.95 at 1, 10 and 50 % selectivity, refilled to top_k', async () => {
  const input = clustered({ rows: 6000, dim: 16, metric: 'cosine', seed: 4 });
  const reader = await openBytes((await buildSegment(input)).bytes, input.schema);
  const segment = new LiveSegment('s', reader, []);
  await reader.loadVectors(); // for exactSearch, the reference
  const rand = rng(5);
  for (const pct of [1, 10, 50]) {
    let found = 0;
    const queries = 30;
    for (let i = 0; i < queries; i++) {
      const q = Array.from({ length: 16 }, () => rand() * 4 - 2);
      const body = { vector: q, top_k: K, filter: { field: 'pct', op: 'lt', value: pct } };
      const parsed = parseQuery(body, input.schema, 'ns', LIMITS);
      // exactBudget 0: every filter goes through the index, not the exact path for few matches.
      const hits = await executeQuery(input.schema, [segment], parsed, { ef: 128, exactBudget: 0 });
      const accepted = allRows(reader).filter((r) => (input.attributes[r]!.pct as number) < pct);
      const exact = reader.exactSearch(Float32Array.from(q), K, accepted);
      assert.equal(hits.length, K, `${pct} %: refilled to top_k`);
      for (const h of hits) assert.ok((input.attributes[h.row]!.pct as number) < pct, 'only accepted rows');
      found += hits.filter((h) => exact.rows.includes(h.row)).length;
    }
    assert.ok(found / (queries * K) >= 0.95, `${pct} %: recall@10 ${found / (queries * K)}`);
  }
});

test('nprobe is the recall knob: more probes never find fewer true neighbours; bad values are a 400', async () => {
  const input = clustered({ rows: 3000, dim: 16, metric: 'l2', seed: 8 });
  const reader = await openBytes((await buildSegment(input)).bytes, input.schema);
  const q = input.vectors.slice(0, 16);
  await reader.loadVectors();
  const exact = reader.exactSearch(q, K, allRows(reader));
  const recallAt = async (nprobe: number) => (await reader.search(q, K, 128, undefined, nprobe)).rows.filter((r) => exact.rows.includes(r)).length;
  assert.ok(await recallAt(1) <= await recallAt(8) && await recallAt(8) <= await recallAt(10_000));
  assert.equal(await recallAt(10_000), K);
  const schema = input.schema;
  assert.equal(parseQuery({ vector: Array.from(q), nprobe: 4 }, schema, 'ns', LIMITS).nprobe, 4);
  for (const nprobe of [0, 1.5, '4', 100_001]) {
    assert.throws(() => parseQuery({ vector: Array.from(q), nprobe }, schema, 'ns', LIMITS),
      (e: Error & { code?: string }) => e.code === 'SILT_ERR_QUERY_INVALID' && /nprobe/.test(e.message));
  }
});

test('norms and slots apart from the directory (ivf.rows) or inside it (segments written before): the same answers, distances and vectors', async () => {
  for (const metric of ['l2', 'cosine', 'dot'] as const) {
    const input = clustered({ rows: 3_000, dim: 16, metric, seed: 31 });
    const apart = await buildSegment(input);
    const inside = await buildSegment({ ...input, ivfWholeDirectory: true });
    assert.notEqual(apart.meta.sections['ivf.rows'], undefined);
    assert.equal(inside.meta.sections['ivf.rows'], undefined);
    assert.ok(inside.meta.sections.ivf!.length - apart.meta.sections.ivf!.length >= 8 * 3_000, 'the directory is 8 bytes a row smaller');
    const a = await openBytes(apart.bytes, input.schema);
    const b = await openBytes(inside.bytes, input.schema);
    const rand = rng(5);
    for (let i = 0; i < 8; i++) {
      const q = new Float32Array(16).map(() => rand() * 2 - 1);
      const accept = i % 2 === 0 ? undefined : (row: number) => row % 4 !== 0;
      assert.deepEqual(await a.search(q, K, 128, accept, 8), await b.search(q, K, 128, accept, 8), `${metric} query ${i}`);
    }
    // Lookups by row number read ivf.rows first; the vectors and norms are the builder's.
    const rows = [0, 17, 2_999];
    const va = await a.vectorsOf(rows);
    const vb = await b.vectorsOf(rows);
    for (const row of rows) {
      assert.deepEqual(va.data.subarray(va.offset(row), va.offset(row) + 16), vb.data.subarray(vb.offset(row), vb.offset(row) + 16));
      assert.equal(a.vectorNorm(row), b.vectorNorm(row));
    }
    a.close();
    b.close();
  }
});
