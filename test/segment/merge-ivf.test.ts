// A merge into an IVF segment keeps its inputs' clusters (merge-ivf.ts): it reads each input by
// runs of clusters, never a whole section, hands the build pool no vector of a clustered input,
// and the output holds every live row (id, attributes, exact vector) and finds the true nearest
// neighbours as well as a full rebuild does, whatever the code kind and rotation seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import type { VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, readSegmentMeta, SegmentReader, type SegmentInput } from '../../src/segment/index.ts';
import { mergeInputs } from '../../src/segment/merge.ts';
import { mergeIvf } from '../../src/segment/merge-ivf.ts';
import type { CodeKind } from '../../src/segment/ivf.ts';
import { openBytes, randomInput, rng, withoutNulls } from './helpers.ts';

const DIM = 32;
const K = 10;
const CLUSTER_ROWS = 64;

/** Gaussian blobs: what k-means partitions well, so that recall depends on the clusters kept. */
function clustered(rows: number, seed: number, centers: Float32Array): Float32Array {
  const rand = rng(seed);
  const out = new Float32Array(rows * DIM);
  const n = centers.length / DIM;
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(rand() * n);
    for (let d = 0; d < DIM; d++) out[r * DIM + d] = centers[c * DIM + d]! + (rand() - 0.5) * 2.5;
  }
  return out;
}

function inputOf(rows: number, first: number, seed: number, metric: VectorMetric, centers: Float32Array, hnswSeed: number): SegmentInput {
  const input = randomInput({ rows, dim: DIM, metric, seed, vectorShare: 0.95 });
  const vectors = clustered(rows, seed + 1, centers);
  return { ...input, ids: input.ids.map((_, i) => BigInt(first + i)), vectors, hnsw: { ...input.hnsw, seed: hnswSeed }, ivfFrom: 1000, ivfClusterRows: CLUSTER_ROWS };
}

/** Opens a segment whose every ranged read is recorded (section, length). */
async function openRecorded(bytes: Buffer, input: SegmentInput, reads: Array<{ name: string; length: number }>): Promise<SegmentReader> {
  const meta = readSegmentMeta(bytes);
  return SegmentReader.open({
    meta, schema: input.schema, tmpDir: tmpdir(),
    readSection: async (name, { offset, length }) => {
      reads.push({ name, length });
      return Buffer.from(bytes.subarray(offset, offset + length));
    },
  });
}

async function recall(reader: SegmentReader, model: Map<bigint, Float32Array>, metric: VectorMetric, queries: Float32Array, nprobe: number): Promise<number> {
  const dist = (a: Float32Array, b: Float32Array) => metric === 'l2'
    ? a.reduce((s, x, d) => s + (x - b[d]!) ** 2, 0)
    : 1 - a.reduce((s, x, d) => s + x * b[d]!, 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
  let found = 0;
  const n = queries.length / DIM;
  for (let q = 0; q < n; q++) {
    const query = queries.subarray(q * DIM, q * DIM + DIM);
    const truth = [...model].sort((a, b) => dist(a[1], query) - dist(b[1], query)).slice(0, K).map(([id]) => id);
    const got = (await reader.search(query, K, 64, undefined, nprobe)).rows.map((row) => reader.id(row));
    found += got.filter((id) => truth.includes(id as bigint)).length;
  }
  return found / (n * K);
}

for (const [metric, codes, keptSeed] of [['l2', 'bits', 42], ['cosine', 'bits', 7], ['l2', 'u8', 42]] as Array<[VectorMetric, CodeKind, number]>) {
  test(`a ${metric} merge into ${codes} codes (kept input's seed ${keptSeed}) keeps the largest input's clusters, streams them, and loses no row or recall`, async () => {
    const rand = rng(11);
    const centers = Float32Array.from({ length: 1000 * DIM }, () => rand() * 4 - 2);
    // A large clustered input (kept: its codes copied, or encoded again when its rotation seed or
    // code kind differs from the output's), a small clustered one and a small exact-scan one,
    // whose rows the build pool clusters.
    const inputs = [inputOf(6000, 0, 1, metric, centers, keptSeed), inputOf(1200, 10_000, 2, metric, centers, 7), inputOf(300, 20_000, 3, metric, centers, 42)];
    inputs[2]!.ivfFrom = 10_000;
    const logs = inputs.map(() => [] as Array<{ name: string; length: number }>);
    const readers = await Promise.all(inputs.map(async (input, i) => openRecorded((await buildSegment(input)).bytes, input, logs[i]!)));
    assert.deepEqual(readers.map((r) => r.hasIvf), [true, true, false]);
    const model = new Map<bigint, Float32Array>();
    const attributes = new Map<bigint, unknown>();
    const live = inputs.map((input, i) => input.ids.map((id, row) => {
      const keep = rand() < 0.9 ? 1 : 0;
      if (keep === 1 && input.hasVector[row] === 1) model.set(id as bigint, input.vectors.slice(row * DIM, row * DIM + DIM));
      if (keep === 1) attributes.set(id as bigint, withoutNulls(input.attributes[row]!));
      void i;
      return keep;
    })).map((l) => Uint8Array.from(l));
    const merging = readers.map((reader, i) => ({ reader, live: live[i]! }));

    for (const log of logs) log.length = 0;
    const handed: SegmentInput[] = [];
    const hnsw = { m: 16, efConstruction: 100, seed: 42 };
    const merged = await mergeIvf(merging, {
      hnsw, ivfFrom: 1000, clusterRows: CLUSTER_ROWS, codes,
      buildRest: (input) => { handed.push(input); return buildSegment(input); },
    });

    // Each clustered input read once, by runs of at most an eighth of its records.
    for (const i of [0, 1]) {
      for (const name of ['ivf.vectors', 'ivf.codes']) {
        const total = readers[i]!.meta.sections[name]!.length;
        const of = logs[i]!.filter((r) => r.name === name);
        assert.ok(of.length >= 8, `${of.length} reads of input ${i}'s ${name}`);
        assert.equal(of.reduce((n, r) => n + r.length, 0), total, `input ${i}'s ${name} read once`);
        assert.ok(Math.max(...of.map((r) => r.length)) <= total / 8 + 2 * CLUSTER_ROWS * (DIM * 4 + 4), `largest read of input ${i}'s ${name}`);
      }
    }
    // The build pool got the vectors of the small inputs' live rows, none of the kept input's.
    const liveVectors = (i: number) => [...live[i]!].filter((l, row) => l === 1 && inputs[i]!.hasVector[row] === 1).length;
    assert.equal(handed.length, 1);
    assert.equal(handed[0]!.hasVector.reduce((n, h) => n + h, 0), liveVectors(1) + liveVectors(2));

    const reader = await openBytes(merged.bytes, inputs[0]!.schema);
    assert.ok(reader.hasIvf);
    assert.equal(reader.rows, attributes.size);
    const keptDir = readers[0]!.ivfDirectory!;
    const centroids = new Set(Array.from({ length: keptDir.clusters }, (_, c) => keptDir.centroids.subarray(c * DIM, c * DIM + DIM).join()));
    const outDir = reader.ivfDirectory!;
    const keptCount = Array.from({ length: outDir.clusters }, (_, c) => outDir.centroids.subarray(c * DIM, c * DIM + DIM).join()).filter((c) => centroids.has(c)).length;
    assert.equal(keptCount, keptDir.clusters, 'the large input\'s clusters are kept, centroids and all');
    const all = await reader.vectorsOf(Array.from({ length: reader.rows }, (_, row) => row));
    for (let row = 0; row < reader.rows; row++) {
      const id = reader.id(row) as bigint;
      assert.deepEqual(reader.attributes(row), attributes.get(id), `row ${row}'s attributes`);
      const want = model.get(id);
      const off = all.offset(row);
      assert.equal(off >= 0, want !== undefined, `row ${row} has a vector iff its document had one`);
      if (want !== undefined) assert.deepEqual(all.data.slice(off, off + DIM), want, `row ${row}'s vector`);
    }

    const queries = clustered(40, 99, centers);
    await Promise.all(readers.map((r) => r.loadVectors()));
    const rebuilt = await openBytes((await buildSegment({ ...mergeInputs(merging, hnsw), ivfFrom: 1000, ivfClusterRows: CLUSTER_ROWS, ivfCodes: codes })).bytes, inputs[0]!.schema);
    // Near-uniform data, the hard case for clusters: recall at each nprobe against a rebuild's.
    for (const nprobe of [16, 32, 64]) {
      const [kept, fresh] = [await recall(reader, model, metric, queries, nprobe), await recall(rebuilt, model, metric, queries, nprobe)];
      assert.ok(kept >= fresh - 0.05, `recall@10 at nprobe ${nprobe}: kept clusters ${kept}, a rebuild ${fresh}`);
      if (nprobe === 64) assert.ok(kept >= 0.95, `recall@10 at nprobe 64 after the merge: ${kept}`);
    }
  });
}
