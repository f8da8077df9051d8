// A node's open namespaces, its views and its memory tier stay within one cache.memory_size
// together, by the node's own accounting (MemoryBudget.stats), wired as main.ts wires them; every
// answer stays right, through the owner and through a view, however often each was closed or
// dropped; and a namespace closed for memory while its tail's flush fails keeps every
// acknowledged write (the WAL still holds it). Puts are held by a gate, not sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryBudget } from '../../src/cache/index.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { NAMESPACE_OVERHEAD_BYTES } from '../../src/indexer/memory.ts';
import { ViewCatalog } from '../../src/cluster/view.ts';
import type { SegmentReader } from '../../src/segment/index.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { Document } from '../../src/schema/types.ts';
import type { ReadableNamespace } from '../../src/namespace/state.ts';
import { GatedStore } from '../support/gated-store.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const doc = (id: number, v: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } });
const LIMITS = { default_top_k: 10, max_top_k: 1000 };
/** Room for a few namespaces and views: far fewer than are used. */
const MEMORY_SIZE = 10 * NAMESPACE_OVERHEAD_BYTES;
const NAMESPACES = 12;

function node(store: GatedStore) {
  const budget = new MemoryBudget(MEMORY_SIZE);
  const owner = new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
  owner.memoryBudget = () => budget.allowance('namespaces');
  owner.reportMemory = (bytes) => budget.report('namespaces', bytes);
  const views = new ViewCatalog({ store, tmpDir: tmpdir(), readers: budget.cache<SegmentReader>('readers'), defaultEf: 64 }, 1000, {
    allowance: () => budget.allowance('views'),
    report: (bytes) => budget.report('views', bytes),
  });
  return { budget, owner, views };
}

async function ids(ns: ReadableNamespace, name: string): Promise<string[]> {
  return (await ns.query(parseQuery({ vector: [1, 1], top_k: 100, include_attributes: ['v'] }, ns.schema, name, LIMITS)))
    .map((h) => `${h.id}:${(h.attributes as { v: string }).v}`).sort();
}

test('owned namespaces, views and the memory tier stay within one tiny memory_size, every answer right', async () => {
  const { budget, owner, views } = node(new GatedStore());
  const names = Array.from({ length: NAMESPACES }, (_, i) => `n${i}`);
  const expected = (i: number) => [`1:n${i}-seg`, `2:n${i}-seg`, `${3 + i}:n${i}-tail`].sort();
  const withinBudget = (when: string) => {
    const { total, by_kind } = budget.stats();
    assert.ok(total <= MEMORY_SIZE, `${when}: ${total} bytes held (${JSON.stringify(by_kind)}), budget ${MEMORY_SIZE}`);
  };
  for (const [i, name] of names.entries()) {
    await owner.create(name, schema);
    const ns = await owner.get(name);
    await ns.write({ kind: 'upsert', docs: [doc(1, `${name}-seg`), doc(2, `${name}-seg`)] });
    await flushTail(ns);
    await ns.write({ kind: 'upsert', docs: [doc(3 + i, `${name}-tail`)] });
    assert.deepEqual(await ids(ns, name), expected(i));
    assert.deepEqual(await ids(await views.fresh(name), name), expected(i));
    await owner.closeOverBudget();
    withinBudget(`after ${name}`);
  }
  // Every one again, both ways, most of them reopened or rebuilt from object storage.
  for (const [i, name] of names.entries()) {
    assert.deepEqual(await ids(await owner.get(name), name), expected(i), `owner of ${name}`);
    assert.deepEqual(await ids(await views.fresh(name), name), expected(i), `view of ${name}`);
    await owner.closeOverBudget();
    withinBudget(`again after ${name}`);
  }
  assert.ok(owner.closedMemoryTotal > 0, 'owned namespaces were closed for memory');
  assert.ok(views.evicted > 0, 'views were dropped for memory');
  assert.ok(views.size < NAMESPACES && owner.openNamespaces().length < NAMESPACES);
  await owner.close(new Error('test over'));
});

test('a namespace closed for memory while its flush fails keeps every acknowledged write', async () => {
  const store = new GatedStore();
  const { owner } = node(store);
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
    await owner.create(name, schema);
    await (await owner.get(name)).write({ kind: 'upsert', docs: [doc(1, `${name}-1`), doc(2, `${name}-2`)] });
  }
  store.hold('segment');
  store.fail = true; // every flush before a close fails: the tails stay in the WAL only
  const closed = await owner.closeOverBudget();
  assert.ok(closed > 0, 'over the budget, some were closed');
  store.open();
  store.fail = false;
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
    assert.deepEqual(await ids(await owner.get(name), name), [`1:${name}-1`, `2:${name}-2`], name);
  }
  await owner.close(new Error('test over'));
});
