import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { listAll } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { ManifestStore } from '../../src/manifest/manifest.ts';
import { historySince } from '../../src/manifest/history.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { n: { type: 'integer' } } });
const HOUR = 3_600_000;

async function keys(store: MemoryObjectStore, prefix: string) {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
}

test('GC keeps every version of the retention window and the segments it names, and prunes what is older', async () => {
  const store = new MemoryObjectStore();
  const deps = { store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS };
  const catalog = new NamespaceCatalog(deps);
  await catalog.create('r', schema);
  const ns = await catalog.get('r');
  for (let b = 0; b < 3; b++) {
    await ns.write({ kind: 'upsert', docs: [{ id: BigInt(b), vector: Float32Array.of(b, 1), attributes: { n: b } }] });
    await flushTail(ns);
  }
  await compactOnce(ns, { max_segments: 1, max_total_docs: 1000 });
  assert.equal(ns.segments.length, 1);
  const history = await historySince(new ManifestStore(store), 'r', ns.loaded.manifest, 0);
  assert.deepEqual(history.map((m) => m.version), [5, 4, 3, 2, 1], 'create, three flushes, one merge');

  // Past the grace period but inside the retention window: the flushed segments stay, only the WAL goes.
  const kept = await collectGarbage(store, 'r', ns.loaded.manifest, 0, Date.now() + HOUR, 24 * HOUR);
  assert.deepEqual(kept, { wal: 3, segments: 0, manifests: 0 });
  assert.equal((await keys(store, 'r/seg/')).length, 4);
  assert.equal((await keys(store, 'r/manifest/')).length, 6);

  // Beyond the window: everything but the current version (and what it names) is pruned.
  const pruned = await collectGarbage(store, 'r', ns.loaded.manifest, 0, Date.now() + 48 * HOUR, 24 * HOUR);
  assert.deepEqual(pruned, { wal: 0, segments: 3, manifests: 4 });
  assert.deepEqual(await keys(store, 'r/seg/'), [ns.loaded.manifest.segments[0]!.key]);
  const reopened = await new NamespaceCatalog(deps).get('r');
  assert.equal(reopened.stats().documents, 3);
});
