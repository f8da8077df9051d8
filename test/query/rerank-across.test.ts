// A query over several IVF segments re-ranks once across them (executor.ts rerankAcross): the
// best code estimates of all segments together, not each segment's own best. It must still
// find what brute force finds, with deleted rows and filters, and read only that many records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { vectorSearch } from '../../src/query/executor.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';
import { distance, norm } from '../../src/segment/distance.ts';
import { buildSegment, readSegmentMeta, SegmentReader, type SegmentMeta } from '../../src/segment/index.ts';
import { recordBytes } from '../../src/segment/ivf-directory.ts';
import { rerankDepth } from '../../src/segment/ivf-search.ts';
import { LiveSegment } from '../../src/segment/live-segment.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { rng } from '../segment/helpers.ts';
import { RecordingStore } from '../support/recording-store.ts';

const DIM = 24;
const SEGMENTS = 4;
const ROWS = 2500;
const CENTRES = 40;
const LIMITS = { default_top_k: 10, max_top_k: 1000 };

interface Built { store: RecordingStore; metas: SegmentMeta[]; schema: NamespaceSchema; vectors: Float32Array[]; flags: boolean[][] }

/** Segments of clustered vectors (points near shared centres), so that code estimates rank well. */
async function built(metric: 'l2' | 'cosine', dim = DIM, rows = ROWS): Promise<Built> {
  const rand = rng(metric.length + 5);
  const schema: NamespaceSchema = { vector_dim: dim, vector_metric: metric, attributes: { flag: { type: 'boolean', full_text: null, filterable: true } } };
  const centres = Array.from({ length: CENTRES }, () => Float32Array.from({ length: dim }, () => rand() * 20 - 10));
  const inner = new MemoryObjectStore();
  const store = new RecordingStore(inner);
  const out: Built = { store, metas: [], schema, vectors: [], flags: [] };
  for (let s = 0; s < SEGMENTS; s++) {
    const vectors = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      const c = centres[Math.floor(rand() * CENTRES)]!;
      for (let d = 0; d < dim; d++) vectors[r * dim + d] = c[d]! + rand() * 2 - 1;
    }
    const flags = Array.from({ length: rows }, () => rand() < 0.3);
    const { bytes } = await buildSegment({
      schema,
      ids: Array.from({ length: rows }, (_, r) => BigInt(s * rows + r)),
      vectors,
      hasVector: new Uint8Array(rows).fill(1),
      attributes: flags.map((flag) => ({ flag })),
      hnsw: { m: 16, efConstruction: 100 },
      ivfFrom: 0,
      ivfClusterRows: 100,
    });
    await inner.put(`ns/seg/s${s}/segment`, bytes);
    out.metas.push(readSegmentMeta(bytes));
    out.vectors.push(vectors);
    out.flags.push(flags);
  }
  return out;
}

async function open(b: Built, dead: Set<number>[], recordGapBytes?: number): Promise<LiveSegment[]> {
  return Promise.all(b.metas.map(async (meta, s) => new LiveSegment(`s${s}`, await SegmentReader.open({
    meta, schema: b.schema, tmpDir: tmpdir(),
    readSection: async (_name, range) => (await b.store.get(`ns/seg/s${s}/segment`, range)).body,
    ...(recordGapBytes !== undefined ? { recordGapBytes } : {}),
  }), dead[s]!)));
}

/** The k nearest live, accepted rows of all segments by a plain sort: (distance, segment, row). */
function bruteForce(b: Built, dead: Set<number>[], q: Float32Array, k: number, onlyFlagged: boolean) {
  const qn = norm(q);
  const all: Array<{ s: number; row: number; d: number }> = [];
  b.vectors.forEach((vectors, s) => {
    for (let row = 0; row < ROWS; row++) {
      if (dead[s]!.has(row) || (onlyFlagged && !b.flags[s]![row])) continue;
      const v = vectors.subarray(row * DIM, row * DIM + DIM);
      all.push({ s, row, d: distance(b.schema.vector_metric, q, qn, v, 0, Math.fround(norm(v))) });
    }
  });
  all.sort((x, y) => x.d - y.d || x.s - y.s || x.row - y.row);
  return all.slice(0, k).map(({ s, row }) => `s${s}:${row}`);
}

for (const metric of ['l2', 'cosine'] as const) {
  test(`${metric}: a query over several IVF segments finds brute force's top k, with deleted rows and a filter`, async () => {
    const b = await built(metric);
    const rand = rng(17);
    const dead = b.metas.map(() => new Set(Array.from({ length: 300 }, () => Math.floor(rand() * ROWS))));
    const segments = await open(b, dead);
    let same = 0;
    let total = 0;
    for (let i = 0; i < 30; i++) {
      const s = i % SEGMENTS;
      const row = Math.floor(rand() * ROWS);
      const q = b.vectors[s]!.slice(row * DIM, row * DIM + DIM).map((x) => x + (rand() - 0.5) * 0.5);
      const k = [1, 10, 50][i % 3]!;
      const onlyFlagged = i % 2 === 1;
      const body = { vector: Array.from(q), top_k: k, ...(onlyFlagged ? { filter: { field: 'flag', op: 'eq', value: true } } : {}) };
      // exactBudget 0: the filtered query goes through the IVF scan too, not the exact path.
      const hits = await vectorSearch(b.schema, segments, parseQuery(body, b.schema, 'ns', LIMITS), k, { ef: 128, nprobe: 1000, exactBudget: 0 });
      const got = hits.map((h) => `${(h.source as LiveSegment).segmentId}:${h.row}`);
      const want = bruteForce(b, dead, q, k, onlyFlagged);
      assert.equal(got.length, k);
      for (const h of hits) {
        const v = b.vectors[Number((h.source as LiveSegment).segmentId.slice(1))]!.subarray(h.row * DIM, h.row * DIM + DIM);
        assert.equal(h.distance, distance(metric, q, norm(q), v, 0, Math.fround(norm(v))), 'exact float32 distances');
        assert.ok(!dead[Number((h.source as LiveSegment).segmentId.slice(1))]!.has(h.row), 'no deleted row');
      }
      same += got.filter((x) => want.includes(x)).length;
      total += k;
      if (k === 1) assert.deepEqual(got, want, `query ${i}: the nearest row`);
    }
    assert.ok(same / total >= 0.98, `recall ${same / total} against brute force`);
  });
}
test('a cold query over several IVF segments reads the records of rerankDepth(k) candidates in all, not that many per segment', async () => {
  // Records read without gaps (recordGapBytes 0), so the bytes read count records.
  const dim = 1100;
  const rb = recordBytes(dim);
  const b = await built('l2', dim, 600);
  const segments = await open(b, b.metas.map(() => new Set()), 0);
  const inRecords = (g: { key: string; offset: number }) => {
    const section = b.metas[Number(/s(\d+)/.exec(g.key)![1])]!.sections['ivf.vectors']!;
    return g.offset >= section.offset && g.offset < section.offset + section.length;
  };
  const k = 10;
  for (let i = 0; i < 3; i++) {
    const q = b.vectors[i]!.slice(0, dim);
    b.store.gets.length = 0;
    const query = parseQuery({ vector: Array.from(q), top_k: k }, b.schema, 'ns', LIMITS);
    const hits = await vectorSearch(b.schema, segments, query, k, { ef: 128, nprobe: 1000 });
    assert.equal(hits[0]!.distance, 0, 'the query vector itself is nearest');
    const reads = b.store.gets.filter(inRecords);
    const bytes = reads.reduce((n, g) => n + g.length, 0);
    // One re-rank across the segments: rerankDepth(k) records at most, whatever the segment count.
    assert.ok(reads.length > 0 && reads.length <= rerankDepth(k), `${reads.length} record GETs`);
    assert.ok(bytes <= rerankDepth(k) * rb, `read ${bytes / rb} records for a re-rank of ${rerankDepth(k)}`);
    b.store.gets.length = 0;
    assert.deepEqual(await vectorSearch(b.schema, segments, query, k, { ef: 128, nprobe: 1000 }), hits);
    assert.equal(b.store.gets.filter(inRecords).length, 0, 'a warm query reads no records');
  }
});

/**
 * The same query over fresh readers, `closing` wrapping each segment so that its reader is
 * closed at one step of the search (what segment-updater.ts does when a merge commits: the
 * inputs' readers are closed at once), answers as over readers left open.
 */
async function answersWhileClosing(queryRow: number, closing: (segment: LiveSegment) => void): Promise<void> {
  const b = await built('l2');
  const q = b.vectors[queryRow]!.slice(0, DIM);
  const query = parseQuery({ vector: Array.from(q), top_k: 10 }, b.schema, 'ns', LIMITS);
  const run = async (segments: LiveSegment[]) => (await vectorSearch(b.schema, segments, query, 10, { ef: 128, nprobe: 8 })).map((h) => [h.row, h.distance]);
  const want = await run(await open(b, b.metas.map(() => new Set())));
  const fresh = await open(b, b.metas.map(() => new Set()));
  fresh.forEach(closing);
  assert.deepEqual(await run(fresh), want);
}

test('a segment closed by a merge between the scan and the re-rank still answers the query in flight', () =>
  answersWhileClosing(1, (segment) => {
    const rerank = segment.annRerank.bind(segment);
    segment.annRerank = (qv, k, rows, slots) => {
      segment.reader.close();
      return rerank(qv, k, rows, slots);
    };
  }));

test('a segment closed by a merge between choosing the probes and the scan still answers the query in flight', () =>
  answersWhileClosing(2, (segment) => {
    const centroids = segment.ivfCentroids.bind(segment);
    // The probes are ranked on the query pool, an await: a merge may commit meanwhile.
    segment.ivfCentroids = () => {
      const c = centroids();
      segment.reader.close();
      return c;
    };
  }));

test('an HNSW segment closed by a merge while the IVF probes are ranked was already searched: the query in flight answers', async () => {
  const b = await built('l2');
  const rand = rng(31);
  const rows = 500;
  const vectors = Float32Array.from({ length: rows * DIM }, () => rand() * 20 - 10);
  const { bytes } = await buildSegment({
    schema: b.schema, ids: Array.from({ length: rows }, (_, r) => BigInt(100_000 + r)), vectors,
    hasVector: new Uint8Array(rows).fill(1), attributes: Array.from({ length: rows }, () => ({ flag: false })), hnsw: { m: 16, efConstruction: 100 },
  });
  const hnswSegment = async () => new LiveSegment('h', await SegmentReader.open({
    meta: readSegmentMeta(bytes), schema: b.schema, tmpDir: tmpdir(), readSection: async (_name, range) => bytes.subarray(range.offset, range.offset + range.length),
  }), new Set());
  const q = vectors.slice(0, DIM);
  const query = parseQuery({ vector: Array.from(q), top_k: 10 }, b.schema, 'ns', LIMITS);
  const brief = (hits: Awaited<ReturnType<typeof vectorSearch>>) => hits.map((h) => [(h.source as LiveSegment).segmentId, h.row, h.distance]);
  const want = brief(await vectorSearch(b.schema, [...await open(b, b.metas.map(() => new Set())), await hnswSegment()], query, 10, { ef: 128, nprobe: 8 }));
  assert.equal(want[0]![0], 'h', 'the query is the HNSW segment\'s row 0');
  const ivf = await open(b, b.metas.map(() => new Set()));
  const hnsw = await hnswSegment();
  const centroids = ivf[0]!.ivfCentroids.bind(ivf[0]!);
  // The merge's commit lands while the probes are ranked: after this turn, before the scans.
  ivf[0]!.ivfCentroids = () => {
    queueMicrotask(() => hnsw.reader.close());
    return centroids();
  };
  assert.deepEqual(brief(await vectorSearch(b.schema, [...ivf, hnsw], query, 10, { ef: 128, nprobe: 8 })), want);
});
