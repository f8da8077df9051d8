import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import type { NamespaceSchema, VectorMetric } from '../../src/schema/types.ts';
import { buildSegment, readSegmentMeta, ScanPool, SegmentReader, type CodeScans, type Neighbours } from '../../src/segment/index.ts';
import { nearestAcross } from '../../src/segment/ivf-centroids.ts';
import { SHORTLIST_MIN_CLUSTERS } from '../../src/segment/ivf-shortlist.ts';
import { probesOf, rng, sharedCentroids, shortlistsBuilt } from './helpers.ts';

const DIM = 16;
const ROWS = 6000;

/** Opens the segment's reader, its code scans on `scans` (this thread when null). */
type Open = (scans: CodeScans | null) => Promise<SegmentReader>;

/** An IVF segment read by range (as from object storage), some rows exact copies of row 0 (ties). */
async function segment(metric: VectorMetric): Promise<{ open: Open; vectors: Float32Array }> {
  const rand = rng(7);
  const schema: NamespaceSchema = { vector_dim: DIM, vector_metric: metric, attributes: {} };
  const vectors = new Float32Array(ROWS * DIM).map(() => rand() * 2 - 1);
  // More copies than the re-rank depth (400): which of them stay candidates is decided by the tie rule.
  for (let r = 1; r < ROWS; r += 7) vectors.copyWithin(r * DIM, 0, DIM);
  const { bytes } = await buildSegment({
    schema,
    ids: Array.from({ length: ROWS }, (_, r) => BigInt(r)),
    vectors,
    hasVector: new Uint8Array(ROWS).fill(1),
    attributes: Array.from({ length: ROWS }, () => ({})),
    hnsw: { m: 16, efConstruction: 100 },
    ivfFrom: 0,
    ivfClusterRows: 100,
  });
  const open: Open = (scans) => SegmentReader.open({
    meta: readSegmentMeta(bytes), schema, tmpDir: tmpdir(), scans,
    readSection: async (_name, r) => bytes.subarray(r.offset, r.offset + r.length),
  });
  return { open, vectors };
}

/** Every search of the test: plain, filtered (a third of the rows), and with "deleted" rows. */
async function searches(reader: SegmentReader, vectors: Float32Array, queries = 12): Promise<Neighbours[]> {
  const out: Neighbours[] = [];
  const accepts = [undefined, (row: number) => row % 3 === 0, (row: number) => row % 10 !== 4];
  for (let q = 0; q < queries; q++) {
    const query = q === 0 ? vectors.slice(0, DIM) : vectors.slice(q * 131 * DIM, (q * 131 + 1) * DIM).map((x, d) => x + 0.01 * d);
    for (const accept of accepts) out.push(await reader.search(query, 10, 128, accept, 12));
  }
  return out;
}

async function onMainThread(open: Open, vectors: Float32Array, queries?: number): Promise<Neighbours[]> {
  return withPool(null, open, vectors, queries);
}

async function withPool(pool: CodeScans | null, open: Open, vectors: Float32Array, queries?: number): Promise<Neighbours[]> {
  const reader = await open(pool);
  try {
    return await searches(reader, vectors, queries);
  } finally {
    reader.close();
  }
}

for (const metric of ['l2', 'cosine'] as const) {
  test(`${metric}: results are identical (rows and distances) with the scan on workers and on the main thread, filtered or not`, async () => {
    const { open, vectors } = await segment(metric);
    const pool = new ScanPool({ threads: 2, minTaskRows: 64, minRankComponents: 0 });
    try {
      await pool.warm();
      const expected = await onMainThread(open, vectors);
      const got = await withPool(pool, open, vectors);
      assert.deepEqual(got, expected);
      assert.ok(pool.stats().tasks >= 2 * expected.length, 'every search was split across the workers');
      assert.equal(pool.stats().fallbacks, 0);
      assert.deepEqual(expected[0]!.rows.slice(0, 3), [0, 1, 8], 'copies of row 0 tie at distance 0, by row');
    } finally {
      await pool.close();
    }
  });
}

test('a worker that dies or hangs: the scan is redone on the main thread, same results, no hang', async () => {
  const { open, vectors } = await segment('l2');
  const expected = await onMainThread(open, vectors, 1);
  for (const file of ['crash-scan-worker.mjs', 'hang-scan-worker.mjs']) {
    const pool = new ScanPool({ threads: 2, minTaskRows: 64, minRankComponents: 0, timeoutMs: 300, workerFile: new URL(`./fixtures/${file}`, import.meta.url) });
    try {
      await pool.warm();
      assert.deepEqual(await withPool(pool, open, vectors, 1), expected, file);
      assert.ok(pool.stats().fallbacks > 0, `${file}: the failed tasks are counted`);
    } finally {
      await pool.close();
    }
  }
});

test('closing the pool stops its threads; scans go on, on the main thread', async () => {
  const { open, vectors } = await segment('l2');
  const pool = new ScanPool({ threads: 2, minTaskRows: 64 });
  const expected = await onMainThread(open, vectors);
  await pool.warm();
  assert.deepEqual(await withPool(pool, open, vectors), expected);
  assert.ok(pool.stats().tasks > 0);
  await pool.close();
  assert.equal(pool.stats().threads, 0, 'no thread left running');
  const tasks = pool.stats().tasks;
  assert.deepEqual(await withPool(pool, open, vectors), expected);
  assert.equal(pool.stats().tasks, tasks, 'a closed pool runs no task');
});

test('the pool starts its threads at its first task, not before; closing it before then or after ends them', async () => {
  const { open, vectors } = await segment('l2');
  const unused = new ScanPool({ threads: 2, minTaskRows: 64 });
  assert.equal(unused.stats().threads, 0, 'no thread before any scan');
  await unused.close();
  assert.equal(unused.stats().threads, 0);
  const pool = new ScanPool({ threads: 2, minTaskRows: 64 });
  const expected = await onMainThread(open, vectors, 1);
  assert.equal(pool.stats().threads, 0, 'a reader opened without the pool does not start it');
  assert.deepEqual(await withPool(pool, open, vectors, 1), expected);
  assert.equal(pool.stats().threads, 2, 'started by the first scan');
  await pool.close();
  assert.equal(pool.stats().threads, 0, 'no thread left running');
});

test('a first query does not wait for the threads to load: its scans run here until they have', async () => {
  const { open, vectors } = await segment('l2');
  const expected = await onMainThread(open, vectors, 1);
  const pool = new ScanPool({ threads: 2, minTaskRows: 64, minRankComponents: 0, workerFile: new URL('./fixtures/slow-load-scan-worker.mjs', import.meta.url) });
  try {
    assert.deepEqual(await withPool(pool, open, vectors, 1), expected);
    assert.equal(pool.stats().tasks, 0, 'answered before the threads had loaded');
    await pool.warm();
    assert.deepEqual(await withPool(pool, open, vectors, 1), expected);
    assert.ok(pool.stats().tasks > 0, 'then on the threads');
    assert.equal(pool.stats().fallbacks, 0);
  } finally {
    await pool.close();
  }
});

test('centroids ranked on a worker give the probes ranked here, across segments; a worker that dies leaves them to this thread', async () => {
  const rand = rng(11);
  const dim = 128;
  const dirs = [SHORTLIST_MIN_CLUSTERS - 12, 300, 5].map((clusters) => sharedCentroids(rand, clusters, dim)); // no native shortlist: ranked on a worker
  const queries = Array.from({ length: 5 }, () => Float32Array.from({ length: dim }, () => rand() * 2 - 1));
  for (const file of [undefined, 'crash-scan-worker.mjs']) {
    const pool = new ScanPool({ threads: 2, rankWhenIdle: true, ...(file ? { workerFile: new URL(`./fixtures/${file}`, import.meta.url) } : {}) });
    try {
      await pool.warm();
      for (const metric of ['l2', 'dot'] as const) {
        for (const q of queries) {
          const ranked = pool.rank(dirs, metric, q, 16);
          assert.ok(ranked instanceof Promise, 'above the threshold the ranking is a task');
          assert.deepEqual(probesOf(await ranked), probesOf(nearestAcross(dirs, metric, q, 16)));
        }
      }
      assert.equal(pool.stats().tasks, 10);
      assert.equal(pool.stats().fallbacks, file ? 10 : 0);
      assert.ok(!(pool.rank([dirs[2]!], 'l2', queries[0]!, 2) instanceof Promise), 'a few centroids are ranked here');
    } finally {
      await pool.close();
    }
  }
});

/** Keeps this thread's event loop busy for most of a window (ScanPool.mainBusy), yielding every 5 ms. */
async function busyLoop(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await new Promise((r) => setImmediate(r));
    const spin = performance.now() + 5;
    while (performance.now() < spin) { /* busy */ }
  }
}

test('ranking stays on this thread while it is idle, and goes to the workers once it is busy', async () => {
  const rand = rng(12);
  // Fewer clusters than a native shortlist needs (ivf-shortlist.ts), as many components as above the task threshold.
  const dim = 256;
  const dirs = [sharedCentroids(rand, SHORTLIST_MIN_CLUSTERS - 12, dim)];
  const q = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
  const pool = new ScanPool({ threads: 2 });
  try {
    await pool.warm();
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(!(pool.rank(dirs, 'l2', q, 8) instanceof Promise), 'idle: ranked here, no task');
    await busyLoop(250);
    const ranked = pool.rank(dirs, 'l2', q, 8);
    assert.ok(ranked instanceof Promise, 'busy: ranked on a worker');
    await ranked;
  } finally {
    await pool.close();
  }
});

test('segments whose native shortlists are built rank on this thread even while it is busy, with the same probes', async () => {
  const rand = rng(13);
  const dim = 128;
  const dirs = [SHORTLIST_MIN_CLUSTERS + 200, SHORTLIST_MIN_CLUSTERS].map((clusters) => sharedCentroids(rand, clusters, dim));
  const q = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
  const pool = new ScanPool({ threads: 2, minRankComponents: 0 });
  try {
    await pool.warm();
    const want = nearestAcross(dirs.map((d) => ({ ...d, centroids: d.centroids.slice() })), 'l2', q, 16);
    // A ranking of a few centroids opens the pool's first busy window (mainBusy).
    pool.rank([{ clusters: 4, dim, centroids: dirs[1]!.centroids.subarray(0, 4 * dim) }], 'l2', q, 2);
    await busyLoop(250);
    const tasks = pool.stats().tasks;
    assert.ok(pool.rank(dirs, 'l2', q, 16) instanceof Promise, 'busy, shortlists not built yet: ranked on a worker');
    await shortlistsBuilt(dirs, 'l2');
    await busyLoop(250);
    const ranked = pool.rank(dirs, 'l2', q, 16);
    assert.ok(!(ranked instanceof Promise), 'busy, shortlists built: ranked here');
    assert.deepEqual(probesOf(ranked), probesOf(want));
    assert.equal(pool.stats().tasks, tasks + 1, 'one task: the ranking before the shortlists were built');
  } finally {
    await pool.close();
  }
});
