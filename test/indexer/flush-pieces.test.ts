// A tail larger than indexing.flush_docs is folded in pieces of about that many rows, in WAL
// order: each piece commits with the watermark where it ends, so every manifest version holds
// exactly the WAL up to its watermark, and a crash between two pieces loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { ManifestStore } from '../../src/manifest/manifest.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const PIECE = 10;
const catalogOver = (store: ObjectStore) => new NamespaceCatalog({
  store, maxBatchBytes: 1 << 20, indexing: { ...TEST_INDEXING, flush_docs: PIECE }, tmpDir: tmpdir(), builds: TEST_BUILDS,
});

/** Three writes of 10 documents, the second overwriting 5 of the first, then a delete: 4 WAL entries. */
async function writeTail(ns: Namespace): Promise<Map<number, string | null>> {
  const model = new Map<number, string | null>();
  const upsert = async (ids: number[], v: string) => {
    await ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } })) });
    for (const id of ids) model.set(id, v);
  };
  await upsert(range(0, 10), 'a');
  await upsert(range(5, 15), 'b');
  await upsert(range(15, 25), 'c');
  await ns.write({ kind: 'delete', ids: [20n] });
  model.set(20, null);
  return model;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

async function assertModel(ns: Namespace, model: Map<number, string | null>, where: string) {
  for (const [id, v] of model) assert.equal((await ns.get(BigInt(id)))?.attributes.v ?? null, v, `${where}: document ${id}`);
  assert.equal(ns.stats().documents, [...model.values()].filter((v) => v !== null).length, `${where}: document count`);
}

test('a tail of several flush_docs is committed piece by piece in WAL order, each manifest holding the WAL up to its watermark', async () => {
  const store = new MemoryObjectStore();
  const catalog = catalogOver(store);
  await catalog.create('p', schema);
  const ns = await catalog.get('p');
  const model = await writeTail(ns);
  const first = ns.loaded.manifest.version;
  assert.equal(await flushTail(ns), true);
  assert.equal(ns.stats().unindexed_documents, 0);
  // Live rows in WAL order: 0–4 (seq 1), 5–14 (seq 2), 15–24 (seq 3, 20 deleted at seq 4).
  // Cut after 10 rows at a seq boundary: [0–14] (15 rows, seq 2 is not split), then [15–19, 21–24].
  const manifests = new ManifestStore(store);
  const versions = [];
  for (let v = first + 1; v <= ns.loaded.manifest.version; v++) versions.push(await manifests.loadVersion('p', v));
  assert.deepEqual(versions.map((m) => [m.wal_watermark, m.segments.map((s) => s.rows)]), [[2, [15]], [4, [15, 9]]]);
  const ids = ns.segments.map((s) => Array.from({ length: s.reader.rows }, (_, r) => Number(s.reader.id(r))));
  assert.deepEqual(ids, [range(0, 15), [...range(15, 20), ...range(21, 25)]]);
  await assertModel(ns, model, 'after the flush');
  await assertModel(await catalogOver(store).get('p'), model, 'reopened');
});

test('a crash at any put of a flush in pieces: the pieces committed stay, the rest is replayed, nothing acknowledged lost', async () => {
  const base = new MemoryObjectStore();
  const model = await writeTail(await (async () => {
    const catalog = catalogOver(base);
    await catalog.create('p', schema);
    return catalog.get('p');
  })());
  const cloneBase = async () => {
    const to = new MemoryObjectStore();
    for await (const obj of listAll(base, '')) await to.put(obj.key, (await base.get(obj.key)).body);
    return to;
  };
  const probe = new FaultyObjectStore(await cloneBase(), { random: rng(0) });
  await flushTail(await catalogOver(probe).get('p'));
  const puts = probe.journal.filter((m) => m.op === 'put').length;
  assert.equal(puts, 6, 'two pieces: a segment and a commit (manifest version + pointer) each');
  for (let nth = 1; nth <= puts; nth++) {
    const inner = await cloneBase();
    const store = new FaultyObjectStore(inner, { random: rng(nth) });
    store.inject({ ops: ['put'], nth, fault: { type: 'crash', when: 'before' } });
    await assert.rejects(flushTail(await catalogOver(store).get('p')));
    const where = `crash before put #${nth}`;
    const ns = await catalogOver(inner).get('p');
    await assertModel(ns, model, where);
    assert.equal(await flushTail(ns), true, `${where}: flushes again`);
    assert.equal(ns.stats().unindexed_documents, 0, where);
    await assertModel(await catalogOver(inner).get('p'), model, `${where}, flushed and reopened`);
  }
});
