import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { copyNamespace } from '../../src/indexer/copy.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { mirrorNamespaces } from '../../src/backup/mirror.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const catalogOver = (store: ObjectStore) => new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
const docs = async (ns: Namespace) => Object.fromEntries((await ns.list(null, 1000)).map((d) => [Number(d.id), d.attributes.v]));
const write = (ns: Namespace, ids: number[], v: string) =>
  ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: Float32Array.of(1, id), attributes: { v } })) });

test('a backup holds segments, history and the WAL tail; a second one copies only what is new; a restore brings it all back', async () => {
  const live = new MemoryObjectStore();
  const catalog = catalogOver(live);
  await catalog.create('a', schema);
  const a = await catalog.get('a');
  await write(a, [1, 2], 'one');
  await flushTail(a);
  await write(a, [3], 'tail');

  const backup = new MemoryObjectStore();
  const first = await mirrorNamespaces(live, backup);
  assert.equal(first.namespaces[0]!.skipped, 0);

  await write(a, [4], 'two');
  await flushTail(a);
  await write(a, [2], 'tail2'); // only in the WAL
  await copyNamespace(catalog, 'a', 'b');
  await write(await catalog.get('b'), [9], 'b');
  const second = await mirrorNamespaces(live, backup, { namespaces: ['a'] });
  assert.equal(second.namespaces[0]!.skipped, 1, 'the segment the first backup copied is not copied again');
  // b alone: its segments live under a's prefix and come along, with the marker that keeps them.
  await mirrorNamespaces(live, backup, { namespaces: ['b'] });

  // The live namespaces go on and are compacted and collected; the backup is untouched by that.
  await compactOnce(a, { max_segments: 1, max_total_docs: 1e6 });
  await a.exclusive(() => collectGarbage(live, 'a', a.loaded.manifest, 0, Date.now() + 1000));

  const fresh = new MemoryObjectStore();
  await mirrorNamespaces(backup, fresh, { namespaces: ['b'], refuseExisting: true });
  assert.deepEqual(await docs(await catalogOver(fresh).get('b')), { 1: 'one', 2: 'tail2', 3: 'tail', 4: 'two', 9: 'b' });
  const restoredB = await catalogOver(fresh).get('b');
  // Its lender 'a' is not there: b's GC sweeps a's prefix, and the restored marker keeps what b names.
  await restoredB.exclusive(() => collectGarbage(fresh, 'b', restoredB.loaded.manifest, 0, Date.now() + 1000));
  assert.deepEqual(await docs(await catalogOver(fresh).get('b')), { 1: 'one', 2: 'tail2', 3: 'tail', 4: 'two', 9: 'b' }, 'b alone, after its GC');
  await flushTail(restoredB);
  await compactOnce(restoredB, { max_segments: 1, max_total_docs: 1e6 });
  await restoredB.exclusive(() => collectGarbage(fresh, 'b', restoredB.loaded.manifest, 0, Date.now() + 1000));
  assert.deepEqual(await docs(await catalogOver(fresh).get('b')), { 1: 'one', 2: 'tail2', 3: 'tail', 4: 'two', 9: 'b' }, 'b alone, after GC');

  await mirrorNamespaces(backup, fresh, { namespaces: ['a'], refuseExisting: true });
  const restored = catalogOver(fresh);
  assert.deepEqual(await docs(await restored.get('a')), { 1: 'one', 2: 'tail2', 3: 'tail', 4: 'two' });
  assert.deepEqual((await restored.list()).sort(), ['a', 'b']);
  await assert.rejects(mirrorNamespaces(backup, fresh, { namespaces: ['a'], refuseExisting: true }), /already exists at the destination/);
  await assert.rejects(mirrorNamespaces(backup, new MemoryObjectStore(), { namespaces: ['zz'] }), /'zz' does not exist/);
});
