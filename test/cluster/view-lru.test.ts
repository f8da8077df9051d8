// Views are bounded by cache.max_views: the least recently used is dropped, and a dropped view
// answers correctly again on its next use, rebuilt from object storage with its segment readers
// still in the memory tier (no segment is opened again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { ViewCatalog } from '../../src/cluster/view.ts';
import { MemoryCache } from '../../src/cache/index.ts';
import type { SegmentReader } from '../../src/segment/index.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { Document } from '../../src/schema/types.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const doc = (id: number, v: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } });
const LIMITS = { default_top_k: 10, max_top_k: 1000 };
const MAX_VIEWS = 2;
const NAMESPACES = 5;

test('views stay within cache.max_views, and an evicted view answers correctly again', async () => {
  const store = new MemoryObjectStore();
  const owner = new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
  const readers = new MemoryCache<SegmentReader>(1 << 30);
  const views = new ViewCatalog({ store, tmpDir: tmpdir(), readers, defaultEf: 64 }, MAX_VIEWS);
  const names = Array.from({ length: NAMESPACES }, (_, i) => `n${i}`);
  for (const [i, name] of names.entries()) {
    await owner.create(name, schema);
    const ns = await owner.get(name);
    await ns.write({ kind: 'upsert', docs: [doc(1, `${name}-seg`), doc(2, `${name}-seg`)] });
    await flushTail(ns);
    await ns.write({ kind: 'upsert', docs: [doc(3 + i, `${name}-tail`)] });
  }
  const ids = async (name: string) => {
    const view = await views.fresh(name);
    return (await view.query(parseQuery({ vector: [1, 1], top_k: 100, include_attributes: ['v'] }, view.schema, name, LIMITS)))
      .map((h) => `${h.id}:${(h.attributes as { v: string }).v}`).sort();
  };
  const expected = (i: number) => [`1:n${i}-seg`, `2:n${i}-seg`, `${3 + i}:n${i}-tail`];

  for (const [i, name] of names.entries()) {
    assert.deepEqual(await ids(name), expected(i));
    assert.ok(views.size <= MAX_VIEWS, `${views.size} views after ${name}`);
  }
  assert.equal(views.evicted, NAMESPACES - MAX_VIEWS);

  const opened = readers.stats().misses;
  assert.deepEqual(await ids('n0'), expected(0), 'rebuilt after eviction');
  assert.equal(readers.stats().misses, opened, 'its segment came from the memory tier');
  assert.equal(views.size, MAX_VIEWS);
  await owner.close(new Error('test over'));
});
