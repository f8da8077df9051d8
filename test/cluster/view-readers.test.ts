// A view holds only the segment readers the memory tier holds: a reader the tier evicted (so no
// longer counted in cache.memory_size) is dropped at the view's next refresh, and the readers of
// segments a compaction replaced leave the tier when the view sees the new manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { ViewCatalog, type NamespaceView } from '../../src/cluster/view.ts';
import { MemoryCache } from '../../src/cache/index.ts';
import { residentBytes, type SegmentReader } from '../../src/segment/index.ts';
import type { LiveSegment } from '../../src/segment/live-segment.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { Document } from '../../src/schema/types.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const doc = (id: number, v: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } });
const LIMITS = { default_top_k: 10, max_top_k: 1000 };

function owner(store: MemoryObjectStore) {
  return new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
}

/** A namespace with one segment per batch. */
async function seeded(catalog: NamespaceCatalog, name: string, batches: number[][]) {
  await catalog.create(name, schema);
  const ns = await catalog.get(name);
  for (const ids of batches) {
    await ns.write({ kind: 'upsert', docs: ids.map((id) => doc(id, name)) });
    await flushTail(ns);
  }
  return ns;
}

function heldReaders(view: NamespaceView): SegmentReader[] {
  return view.sources().slice(1).map((s) => (s as LiveSegment).reader);
}

async function ids(view: NamespaceView): Promise<string[]> {
  const hits = await view.query(parseQuery({ vector: [1, 1], top_k: 100 }, view.schema, view.name, LIMITS));
  return hits.map((h) => String(h.id)).sort();
}

test('a reader the memory tier evicted is not kept by the view past its next refresh', async () => {
  const store = new MemoryObjectStore();
  const catalog = owner(store);
  const a = await seeded(catalog, 'a', [[1, 2, 3]]);
  await seeded(catalog, 'b', [[1, 2, 3]]);
  const aRef = a.loaded.manifest.segments[0]!;
  // Room for one of the two readers: opening b's evicts a's.
  const readers = new MemoryCache<SegmentReader>(residentBytes(aRef.meta) + 16);
  const views = new ViewCatalog({ store, tmpDir: tmpdir(), readers, defaultEf: 64 });
  const viewA = await views.fresh('a');
  assert.equal(heldReaders(viewA)[0], readers.peek(aRef.key));
  await views.fresh('b');
  assert.equal(readers.peek(aRef.key), undefined, 'the tier evicted a\'s reader');
  await views.fresh('a');
  const held = heldReaders(viewA);
  assert.equal(held.length, 1);
  assert.equal(held[0], readers.peek(aRef.key), 'the view serves from the reader the tier holds (and counts), not the evicted one');
  assert.deepEqual(await ids(viewA), ['1', '2', '3']);
  await catalog.close(new Error('test over'));
});

test('after a compaction, the replaced segments\' readers leave the memory tier when the view refreshes', async () => {
  const store = new MemoryObjectStore();
  const catalog = owner(store);
  const ns = await seeded(catalog, 'c', [[1, 2], [3, 4]]);
  const before = ns.loaded.manifest.segments.map((r) => r.key);
  const readers = new MemoryCache<SegmentReader>(1 << 30);
  const views = new ViewCatalog({ store, tmpDir: tmpdir(), readers, defaultEf: 64 });
  const view = await views.fresh('c');
  assert.equal(readers.stats().entries, 2);
  assert.equal(await compactOnce(ns, { max_segments: 1, max_total_docs: 1_000_000 }), 1);
  await views.fresh('c');
  assert.deepEqual(before.map((k) => readers.peek(k)), [undefined, undefined], 'the replaced readers are gone from the tier');
  assert.equal(readers.stats().entries, 1);
  assert.equal(heldReaders(view)[0], readers.peek(ns.loaded.manifest.segments[0]!.key));
  assert.deepEqual(await ids(view), ['1', '2', '3', '4']);
  await catalog.close(new Error('test over'));
});
