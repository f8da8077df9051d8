// A crash at every put and delete of a copy (crash-points.test.ts style): the process dies there,
// a new one opens the same storage, the source is whole and collects garbage without breaking
// anything, and the client's retry of the copy finishes it (docs/storage.md, crash points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { copyNamespace } from '../../src/indexer/copy.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const later = () => Date.now() + 3_600_000;
const catalogOver = (store: ObjectStore) => new NamespaceCatalog({
  store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS, history: { graceMs: 0, retentionMs: 0 },
}, later);

async function clone(from: ObjectStore): Promise<MemoryObjectStore> {
  const to = new MemoryObjectStore();
  for await (const obj of listAll(from, '')) await to.put(obj.key, (await from.get(obj.key)).body);
  return to;
}

const docs = async (ns: Namespace) => Object.fromEntries((await ns.list(null, 1000)).map((d) => [Number(d.id), d.attributes.v]));

test('a crash at any put of a copy: the source is whole, GC breaks nothing, the retry finishes the copy', async () => {
  const base = new MemoryObjectStore();
  const setup = catalogOver(base);
  await setup.create('src', schema);
  const ns = await setup.get('src');
  const write = (ids: number[], v: string) => ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: Float32Array.of(1, id), attributes: { v } })) });
  await write([1, 2, 3], 'one');
  await flushTail(ns);
  await write([3, 4], 'two');
  await flushTail(ns);
  await write([5], 'tail');
  const expected = { 1: 'one', 2: 'one', 3: 'two', 4: 'two', 5: 'tail' };

  const probe = new FaultyObjectStore(await clone(base), { random: rng(0) });
  await copyNamespace(catalogOver(probe), 'src', 'dst');
  const points = probe.journal.map((m) => `${m.op} ${m.key.replace(/[0-9a-f-]{16,}/, '…')}`);
  assert.deepEqual(points.map((p) => p.replace(/\/[^/]*$/, '/')), [
    'put src/seg/', 'put src/manifest/', 'put src/manifest/', // the source's tail, flushed first
    'put src/borrowers/', 'put dst/manifest/', 'put dst/manifest/', 'put .catalog/',
  ]);

  for (let nth = 1; nth <= points.length; nth++) {
    const where = `crash before ${points[nth - 1]} (#${nth})`;
    const inner = await clone(base);
    const store = new FaultyObjectStore(inner, { random: rng(nth) });
    store.inject({ ops: ['put', 'delete'], nth, fault: { type: 'crash', when: 'before' } });
    await assert.rejects(copyNamespace(catalogOver(store), 'src', 'dst'), /injected crash|unavailable/, where);

    // A new process: the source merges and collects garbage, markers of an unfinished copy included.
    const src = await catalogOver(inner).get('src');
    assert.deepEqual(await docs(src), expected, `${where}: the source`);
    await flushTail(src);
    await compactOnce(src, { max_segments: 1, max_total_docs: 1e6 });
    await src.exclusive(() => collectGarbage(inner, 'src', src.loaded.manifest, 0, later(), 0));
    assert.deepEqual(await docs(await catalogOver(inner).get('src')), expected, `${where}: the source after GC`);
    const markers: string[] = [];
    for await (const o of listAll(inner, 'src/borrowers/')) markers.push(o.key);
    assert.deepEqual(markers, nth < points.length ? [] : ['src/borrowers/dst'], `${where}: a marker stays only while its copy exists`);

    // The client retries; the copy is then whole and listed, and survives the source's GC.
    const catalog = catalogOver(inner);
    const done = await copyNamespace(catalog, 'src', 'dst');
    assert.equal(done.created, nth < points.length, `${where}: a manifest already made is only listed`);
    assert.ok((await catalog.list()).includes('dst'), `${where}: listed`);
    const again = await catalogOver(inner).get('src');
    await again.exclusive(() => collectGarbage(inner, 'src', again.loaded.manifest, 0, later(), 0));
    assert.deepEqual(await docs(await catalogOver(inner).get('dst')), expected, `${where}: the copy`);
  }
});
