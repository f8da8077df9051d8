// The centroid graph (`ivf.graph`, segment/ivf-graph.ts): a segment with many clusters carries an
// HNSW graph over its centroids, loaded after a first query, never during it, and then a query's
// probes come from the graph: nearly the exact pass's clusters, and a query over several such
// segments still finds brute force's top k.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { vectorSearch } from '../../src/query/executor.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { NamespaceSchema, VectorMetric } from '../../src/schema/types.ts';
import { distance, norm } from '../../src/segment/distance.ts';
import { buildSegment, readSegmentMeta, residentBytes, SegmentReader, type SegmentMeta } from '../../src/segment/index.ts';
import { nearestAcross, type RankDirectory } from '../../src/segment/ivf-centroids.ts';
import { GRAPH_LOAD_DELAY_MS } from '../../src/segment/ivf-graph.ts';
import { LiveSegment } from '../../src/segment/live-segment.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { RecordingStore } from '../support/recording-store.ts';
import { rng } from './helpers.ts';

const DIM = 24;
const ROWS = 6000;
const CENTRES = 60;
const LIMITS = { default_top_k: 10, max_top_k: 1000 };
/** 30 rows a cluster: about 200 clusters a segment, a graph from 64. */
const CLUSTER_ROWS = 30;
const GRAPH_FROM = 64;

interface Built { store: RecordingStore; metas: SegmentMeta[]; schema: NamespaceSchema; vectors: Float32Array[] }

async function built(metric: VectorMetric, segments: number, graphFrom = GRAPH_FROM): Promise<Built> {
  const rand = rng(metric.length + 31);
  const schema: NamespaceSchema = { vector_dim: DIM, vector_metric: metric, attributes: {} };
  const centres = Array.from({ length: CENTRES }, () => Float32Array.from({ length: DIM }, () => rand() * 20 - 10));
  const inner = new MemoryObjectStore();
  const out: Built = { store: new RecordingStore(inner), metas: [], schema, vectors: [] };
  for (let s = 0; s < segments; s++) {
    const vectors = new Float32Array(ROWS * DIM);
    for (let r = 0; r < ROWS; r++) {
      const c = centres[Math.floor(rand() * CENTRES)]!;
      for (let d = 0; d < DIM; d++) vectors[r * DIM + d] = c[d]! + rand() * 4 - 2;
    }
    const { bytes } = await buildSegment({
      schema,
      ids: Array.from({ length: ROWS }, (_, r) => BigInt(s * ROWS + r)),
      vectors,
      hasVector: new Uint8Array(ROWS).fill(1),
      attributes: Array.from({ length: ROWS }, () => ({})),
      hnsw: { m: 16, efConstruction: 100 },
      ivfFrom: 0,
      ivfClusterRows: CLUSTER_ROWS,
      ivfGraphFrom: graphFrom,
    });
    await inner.put(`ns/seg/s${s}/segment`, bytes);
    out.metas.push(readSegmentMeta(bytes));
    out.vectors.push(vectors);
  }
  return out;
}

function openAll(b: Built): Promise<SegmentReader[]> {
  return Promise.all(b.metas.map((meta, s) => SegmentReader.open({
    meta, schema: b.schema, tmpDir: tmpdir(),
    readSection: async (_name, range) => (await b.store.get(`ns/seg/s${s}/segment`, range)).body,
  })));
}

/** The reads of segment s that fall inside its `ivf.graph` section. */
function graphReads(b: Built, s: number) {
  const g = b.metas[s]!.sections['ivf.graph']!;
  return b.store.gets.filter((r) => r.key === `ns/seg/s${s}/segment` && r.offset >= g.offset && r.offset < g.offset + g.length);
}

function query(b: Built, rand: () => number): Float32Array {
  const s = Math.floor(rand() * b.vectors.length);
  const row = Math.floor(rand() * ROWS);
  return b.vectors[s]!.slice(row * DIM, row * DIM + DIM).map((x) => x + (rand() - 0.5));
}

test('a segment with many clusters carries a centroid graph, one with few does not; the graph counts as resident', async () => {
  const many = await built('l2', 1);
  const few = await built('l2', 1, 100_000);
  assert.ok(many.metas[0]!.sections['ivf.graph'], 'ivf.graph written from graphFrom clusters');
  assert.equal(few.metas[0]!.sections['ivf.graph'], undefined, 'no graph below graphFrom clusters');
  assert.ok(residentBytes(many.metas[0]!) > residentBytes(few.metas[0]!) + many.metas[0]!.sections['ivf.graph']!.length,
    'the graph and hnswlib\'s fixed table are charged to the segment');
});

test('the graph is read after the first query, not at open or during it, and then ranks the clusters', async () => {
  const b = await built('l2', 1);
  const [reader] = await openAll(b);
  const q = b.vectors[0]!.slice(0, DIM);
  const segments = [new LiveSegment('s0', reader!, new Set())];
  const body = parseQuery({ vector: Array.from(q), top_k: 10 }, b.schema, 'ns', LIMITS);
  const first = await vectorSearch(b.schema, segments, body, 10, { ef: 128, nprobe: 16 });
  assert.equal(first[0]!.row, 0, 'the query vector itself is nearest');
  assert.equal(graphReads(b, 0).length, 0, 'neither the open nor the first query reads ivf.graph');
  const dir = reader!.ivfCentroids()!.dir;
  assert.equal(dir.graph ?? null, null, 'ranking is exact until the graph is loaded');
  // The first query asked for it: it loads GRAPH_LOAD_DELAY_MS later, by one read of its section.
  await new Promise((r) => setTimeout(r, GRAPH_LOAD_DELAY_MS + 300));
  for (let i = 0; i < 50 && (dir.graph ?? null) === null; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(dir.graph, 'the graph is loaded after the first query');
  const graph = b.metas[0]!.sections['ivf.graph']!;
  assert.equal(graphReads(b, 0).reduce((n, r) => n + r.length, 0), graph.length, 'the graph section is read once, whole');
  assert.deepEqual(await vectorSearch(b.schema, segments, body, 10, { ef: 128, nprobe: 16 }), first, 'the same answer ranked by the graph');
  reader!.close();
  assert.equal(dir.graph ?? null, null, 'closing the segment detaches its graph');
  const after = nearestAcross([dir], 'l2', q, 16);
  assert.equal(after.clusters.length, 16, 'a query still ranking a closed segment ranks exactly');
});

for (const metric of ['l2', 'cosine', 'dot'] as const) {
  test(`${metric}: probes chosen by centroid graphs are nearly the exact pass's, and a query over the segments finds brute force's top k`, async () => {
    const b = await built(metric, 3);
    const readers = await openAll(b);
    for (const r of readers) assert.equal(await r.loadCentroidGraph(), true);
    const dirs: RankDirectory[] = readers.map((r) => r.ivfCentroids()!.dir);
    assert.ok(dirs.every((d) => d.graph));
    const rand = rng(5);
    let overlap = 0;
    let total = 0;
    for (let i = 0; i < 40; i++) {
      const raw = query(b, rand);
      const qv = metric === 'cosine' ? raw.map((x) => x / norm(raw)) : raw;
      const n = [8, 32, 100][i % 3]!;
      const byGraph = nearestAcross(dirs, metric, qv, n);
      const exact = nearestAcross(dirs, metric, qv, n, false);
      assert.equal(byGraph.clusters.length, n);
      const want = new Set(Array.from(exact.clusters, (c, j) => `${exact.segments[j]}:${c}`));
      overlap += Array.from(byGraph.clusters, (c, j) => `${byGraph.segments[j]}:${c}`).filter((x) => want.has(x)).length;
      total += n;
      assert.deepEqual(nearestAcross(dirs, metric, qv, n), byGraph, 'the graph ranks the same way twice');
    }
    assert.ok(overlap / total >= 0.95, `graph probes share ${overlap / total} of the exact probes`);

    const segments = readers.map((r, s) => new LiveSegment(`s${s}`, r, new Set()));
    let same = 0;
    let want = 0;
    for (let i = 0; i < 30; i++) {
      const q = query(b, rand);
      const hits = await vectorSearch(b.schema, segments, parseQuery({ vector: Array.from(q), top_k: 10 }, b.schema, 'ns', LIMITS), 10, { ef: 128, nprobe: 24 });
      const qn = norm(q);
      const all: Array<{ key: string; d: number }> = [];
      b.vectors.forEach((vectors, s) => {
        for (let row = 0; row < ROWS; row++) {
          const v = vectors.subarray(row * DIM, row * DIM + DIM);
          all.push({ key: `s${s}:${row}`, d: distance(metric, q, qn, v, 0, Math.fround(norm(v))) });
        }
      });
      all.sort((x, y) => x.d - y.d);
      const truth = new Set(all.slice(0, 10).map((x) => x.key));
      same += hits.filter((h) => truth.has(`${(h.source as LiveSegment).segmentId}:${h.row}`)).length;
      want += 10;
    }
    assert.ok(same / want >= 0.95, `recall@10 ${same / want} against brute force`);
    for (const r of readers) r.close();
  });
}

test('a graph that cannot be read leaves ranking exact and the query answered', async () => {
  const b = await built('l2', 1);
  const meta = b.metas[0]!;
  const g = meta.sections['ivf.graph']!;
  const reader = await SegmentReader.open({
    meta, schema: b.schema, tmpDir: tmpdir(),
    readSection: async (name, range) => {
      if (name === 'ivf.graph' || (range.offset >= g.offset && range.offset < g.offset + g.length)) throw new Error('store down');
      return (await b.store.get('ns/seg/s0/segment', range)).body;
    },
  });
  assert.equal(await reader.loadCentroidGraph(), false);
  const segments = [new LiveSegment('s0', reader, new Set())];
  const q = b.vectors[0]!.slice(DIM, 2 * DIM);
  const hits = await vectorSearch(b.schema, segments, parseQuery({ vector: Array.from(q), top_k: 5 }, b.schema, 'ns', LIMITS), 5, { ef: 128, nprobe: 16 });
  assert.equal(hits[0]!.row, 1, 'answered by the exact ranking');
  reader.close();
});
