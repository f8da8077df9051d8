import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { listAll } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { n: { type: 'integer' } } });

async function keys(store: MemoryObjectStore, prefix: string) {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
}

test('GC removes folded WAL, replaced segments and old manifests, never what the current manifest needs', async () => {
  const store = new MemoryObjectStore();
  const deps = { store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS };
  const catalog = new NamespaceCatalog(deps);
  await catalog.create('g', schema);
  const ns = await catalog.get('g');
  for (let b = 0; b < 4; b++) {
    const docs = Array.from({ length: 50 }, (_, i) => ({ id: BigInt(b * 50 + i), vector: Float32Array.of(i, b + 1), attributes: { n: i } }));
    await ns.write({ kind: 'upsert', docs });
    await flushTail(ns);
  }
  await ns.write({ kind: 'delete', ids: [0n, 1n] }); // stays in the WAL tail
  assert.equal(ns.segments.length, 4);
  await compactOnce(ns, { max_segments: 1, max_total_docs: 1000 });
  assert.equal(ns.segments.length, 1);

  // Within the grace period nothing goes.
  const before = await keys(store, 'g/');
  assert.deepEqual(await collectGarbage(store, 'g', ns.loaded.manifest, 60_000), { wal: 0, segments: 0, manifests: 0 });
  assert.deepEqual(await keys(store, 'g/'), before);

  const removed = await collectGarbage(store, 'g', ns.loaded.manifest, 0, Date.now() + 1000);
  assert.equal(removed.wal, 4);
  assert.equal(removed.segments, 4);
  assert.ok(removed.manifests >= 4);
  const wal = await keys(store, 'g/wal/');
  assert.deepEqual(wal, ['g/wal/00000000000000000005.wal'], 'the unfolded tail stays');
  assert.deepEqual(await keys(store, 'g/seg/'), [ns.loaded.manifest.segments[0]!.key]);

  // A fresh process sees everything: 198 documents, the deletes from the tail applied.
  const reopened = await new NamespaceCatalog(deps).get('g');
  assert.equal(reopened.stats().documents, 198);
  assert.equal(await reopened.get(0n), null);
  assert.deepEqual({ ...(await reopened.get(199n))?.attributes }, { n: 49 });
});
