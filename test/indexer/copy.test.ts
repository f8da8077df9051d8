// Copy-on-write copies: the copy names the source's segments, writes to either stay their own,
// and GC, compaction and deletes of either namespace never break the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { copyNamespace } from '../../src/indexer/copy.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { TEST_BUILDS, TEST_INDEXING, testApp } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const MERGE_ALL = { max_segments: 1, max_total_docs: 1_000_000 };
const later = () => Date.now() + 3_600_000;
const catalogOver = (store: ObjectStore) => new NamespaceCatalog({
  store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS, history: { graceMs: 0, retentionMs: 0 },
}, later);

async function keys(store: ObjectStore, prefix: string) {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
}

async function upsert(ns: Namespace, ids: number[], v: string) {
  await ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: Float32Array.of(1, id), attributes: { v } })) });
}

async function values(ns: Namespace): Promise<Record<number, string>> {
  return Object.fromEntries((await ns.list(null, 1000)).map((d) => [Number(d.id), d.attributes.v as string]));
}

/** GC as the background indexer runs it, long after every change, with no history kept. */
const gc = (store: ObjectStore, ns: Namespace) => ns.exclusive(() => collectGarbage(store, ns.name, ns.loaded.manifest, 0, later(), 0));

test('a copy shares the source\'s segments, and each side\'s writes stay its own', async () => {
  const store = new MemoryObjectStore();
  const catalog = catalogOver(store);
  await catalog.create('src', schema);
  const src = await catalog.get('src');
  await upsert(src, [1, 2], 'a');
  await flushTail(src);
  await upsert(src, [3], 'tail'); // folded by the copy's flush
  const made = await copyNamespace(catalog, 'src', 'dst');
  assert.equal(made.created, true);
  assert.equal(made.documents, 3);
  assert.deepEqual(await keys(store, 'dst/seg/'), [], 'no data copied');
  assert.ok((await catalog.list()).includes('dst'));

  const dst = await catalog.get('dst');
  await upsert(dst, [1], 'dst');
  await upsert(await catalog.get('src'), [2], 'src');
  assert.deepEqual(await values(dst), { 1: 'dst', 2: 'a', 3: 'tail' });
  assert.deepEqual(await values(await catalog.get('src')), { 1: 'a', 2: 'src', 3: 'tail' });
  const fresh = catalogOver(store);
  assert.deepEqual(await values(await fresh.get('dst')), { 1: 'dst', 2: 'a', 3: 'tail' });

  await assert.rejects(copyNamespace(catalog, 'src', 'dst'), { code: 'SILT_ERR_NAMESPACE_EXISTS' });
  await assert.rejects(copyNamespace(catalog, 'src', 'src'), { code: 'SILT_ERR_REQUEST_INVALID' });
  await assert.rejects(copyNamespace(catalog, 'nope', 'x'), { code: 'SILT_ERR_NAMESPACE_NOT_FOUND' });
  await assert.rejects(copyNamespace(catalog, 'src', 'x', { version: 99 }), { code: 'SILT_ERR_VERSION_NOT_FOUND' });
});

test('GC, compaction and deletes of either side never break the other; the last one out cleans up', async () => {
  for (const first of ['src', 'dst'] as const) {
    const store = new MemoryObjectStore();
    const catalog = catalogOver(store);
    await catalog.create('src', schema);
    let src = await catalog.get('src');
    for (const b of [0, 1]) {
      await upsert(src, [b * 10, b * 10 + 1], `s${b}`);
      await flushTail(src);
    }
    await copyNamespace(catalog, 'src', 'dst');
    const expected = { 0: 's0', 1: 's0', 10: 's1', 11: 's1' };

    // The source merges its segments away and collects garbage: the copy still needs them.
    await compactOnce(src, MERGE_ALL);
    await gc(store, src);
    assert.deepEqual(await values(await catalogOver(store).get('dst')), expected, `${first}: the copy after the source's GC`);

    const other = first === 'src' ? 'dst' : 'src';
    await catalog.delete(first);
    const survivor = await catalogOver(store).get(other);
    assert.deepEqual(await values(survivor), expected, `${first} deleted: ${other} still reads everything`);
    await upsert(survivor, [99], 'new');
    await flushTail(survivor);
    await compactOnce(survivor, MERGE_ALL);
    await gc(store, survivor);
    assert.deepEqual(await values(await catalogOver(store).get(other)), { ...expected, 99: 'new' }, `${first} deleted: ${other} after compaction and GC`);
    assert.deepEqual(await keys(store, `${first}/`), [], `${first}: nothing of it is left once ${other} no longer needs it`);

    await catalog.delete(other);
    assert.deepEqual(await keys(store, ''), [], `${first} then ${other} deleted: storage is empty`);
    src = null as unknown as Namespace;
  }
});

test('POST …/copy answers 201 with the copy, through the API', async () => {
  const a = testApp();
  await a.call('PUT', '/v1/namespaces/p', { vector_dim: 2 });
  await a.call('POST', '/v1/namespaces/p/upsert', { documents: [{ id: 1, vector: [1, 0] }] });
  await a.call('POST', '/v1/namespaces/p/flush');
  await a.call('POST', '/v1/namespaces/p/upsert', { documents: [{ id: 2, vector: [0, 1] }] });
  await a.call('POST', '/v1/namespaces/p/flush');
  const res = await a.call('POST', '/v1/namespaces/p/copy', { to: 'q', version: 2 });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.deepEqual([res.body.source_version, res.body.documents], [2, 1]);
  assert.equal((await a.call('GET', '/v1/namespaces/q/documents/1')).status, 200);
  assert.equal((await a.call('GET', '/v1/namespaces/q/documents/2')).status, 404);
  assert.equal((await a.call('POST', '/v1/namespaces/p/copy', { to: 'q' })).body.error.code, 'SILT_ERR_NAMESPACE_EXISTS');
  assert.equal((await a.call('POST', '/v1/namespaces/p/copy', { to: '.bad' })).body.error.code, 'SILT_ERR_NAMESPACE_NAME');
  assert.equal((await a.call('POST', '/v1/namespaces/p/copy', { too: 'x' })).status, 400);
});
