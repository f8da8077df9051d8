// A merge of IVF segments reads its inputs' vectors block by block (readMergeInputs), never an
// input's whole vectors section (`ivf.vectors`) in one read, and the merged segment still finds the
// true nearest neighbours of the live rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { Sections } from '../../src/segment/format.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { RecordingStore } from '../support/recording-store.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const DIM = 16;
const ROWS = 3000;
const K = 10;

test('a merge of IVF segments reads their cluster blocks by range, not whole sections, and keeps recall against brute force', async () => {
  const inner = new MemoryObjectStore();
  const schema = parseNamespaceSchema({ vector_dim: DIM, vector_metric: 'l2' });
  const catalogOver = (store: ObjectStore) => new NamespaceCatalog({
    store, maxBatchBytes: 16 << 20, indexing: { ...TEST_INDEXING, ivf_min_rows: 1000 }, tmpDir: tmpdir(), builds: TEST_BUILDS,
  });
  const rand = rng(3);
  const model = new Map<number, Float32Array>();
  {
    const catalog = catalogOver(inner);
    await catalog.create('m', schema);
    const ns = await catalog.get('m');
    for (let part = 0; part < 2; part++) {
      const docs = Array.from({ length: ROWS }, (_, i) => {
        const vector = new Float32Array(DIM).map(() => rand() * 2 - 1);
        model.set(part * ROWS + i, vector);
        return { id: BigInt(part * ROWS + i), vector, attributes: {} };
      });
      await ns.write({ kind: 'upsert', docs });
      await flushTail(ns);
    }
    const gone = Array.from({ length: 100 }, (_, i) => i * 7);
    await ns.write({ kind: 'delete', ids: gone.map(BigInt) });
    for (const id of gone) model.delete(id);
  }

  // A new process: its readers read the segments from storage, by range.
  const store = new RecordingStore(inner);
  const ns = await catalogOver(store).get('m');
  const inputs = ns.loaded.manifest.segments.map((r) => ({ key: r.key, clusters: r.meta.sections[Sections.ivfVectors]!.length }));
  assert.equal(inputs.length, 2);
  store.gets.length = 0;
  assert.equal(await compactOnce(ns, { max_segments: 1, max_total_docs: 1_000_000 }), 1);
  assert.equal(ns.segments.length, 1);
  for (const input of inputs) {
    const reads = store.gets.filter((g) => g.key === input.key);
    assert.ok(reads.length > 1, 'the merge read the input');
    const largest = Math.max(...reads.map((g) => g.length));
    assert.ok(largest < input.clusters / 4, `largest read ${largest} bytes of a ${input.clusters}-byte cluster section`);
    const total = reads.reduce((n, g) => n + g.length, 0);
    assert.ok(total <= input.clusters * 1.5, `${total} bytes read for a ${input.clusters}-byte cluster section`);
  }

  const merged = ns.segments[0]!.reader;
  assert.ok(merged.meta.sections[Sections.ivfCodes], 'the output is an IVF segment');
  assert.equal(merged.rows, model.size);
  let found = 0;
  const queries = 30;
  for (let q = 0; q < queries; q++) {
    const query = new Float32Array(DIM).map(() => rand() * 2 - 1);
    const l2 = (v: Float32Array) => v.reduce((s, x, d) => s + (x - query[d]!) ** 2, 0);
    const truth = [...model].sort((a, b) => l2(a[1]) - l2(b[1])).slice(0, K).map(([id]) => id);
    const got = (await merged.search(query, K, 64)).rows.map((row) => Number(merged.id(row)));
    found += got.filter((id) => truth.includes(id)).length;
  }
  assert.ok(found / (queries * K) >= 0.95, `recall@10 ${found / (queries * K)}`);
  for (const id of [1, 2999, 3000, 5999]) {
    assert.deepEqual((await ns.get(BigInt(id)))?.vector, model.get(id), `document ${id}'s vector survives the merge`);
  }
});

test('a flushed or merged segment is read from storage once open, not from the bytes it was built in (which would keep the whole object in memory)', async () => {
  const store = new RecordingStore(new MemoryObjectStore());
  const catalog = new NamespaceCatalog({
    store, maxBatchBytes: 16 << 20, indexing: { ...TEST_INDEXING, ivf_min_rows: 1000 }, tmpDir: tmpdir(), builds: TEST_BUILDS,
  });
  await catalog.create('r', parseNamespaceSchema({ vector_dim: DIM, vector_metric: 'l2' }));
  const ns = await catalog.get('r');
  const rand = rng(5);
  for (let part = 0; part < 2; part++) {
    await ns.write({ kind: 'upsert', docs: Array.from({ length: ROWS }, (_, i) => ({ id: BigInt(part * ROWS + i), vector: new Float32Array(DIM).map(() => rand() * 2 - 1), attributes: {} })) });
    await flushTail(ns);
  }
  const probe = async () => {
    const segment = ns.segments[0]!;
    store.gets.length = 0;
    await segment.reader.search(new Float32Array(DIM).map(() => rand() * 2 - 1), K, 8);
    return store.gets.filter((g) => g.key.includes(segment.segmentId)).length;
  };
  assert.ok(await probe() > 0, 'a query on a flushed segment reads its clusters from the store');
  assert.equal(await compactOnce(ns, { max_segments: 1, max_total_docs: 1_000_000 }), 1);
  assert.ok(await probe() > 0, 'a query on a merged segment reads its clusters from the store');
});
