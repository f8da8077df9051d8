// Read-only views of a namespace, as query nodes build them from object storage (here an S3
// server, whose etags are content hashes as on AWS): a strong refresh sees every acknowledged
// write, segments and tail alike; an eventual read stays within its staleness; a namespace
// deleted and created again is never mixed up with its previous incarnation; and concurrent
// refreshes share their requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { CachedObjectStore } from '../../src/storage/cached.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { ViewCatalog } from '../../src/cluster/view.ts';
import { DiskCache, MemoryCache } from '../../src/cache/index.ts';
import type { SegmentReader } from '../../src/segment/index.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { Document } from '../../src/schema/types.ts';
import { startS3Server } from '../support/s3-server.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const doc = (id: number, v: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } });
const LIMITS = { default_top_k: 10, max_top_k: 1000 };

test('views built from object storage', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-view-'));
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  const s3store = new S3ObjectStore({
    bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, requestTimeoutMs: 5000,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const store = new CountingObjectStore(s3store);
  let disk: DiskCache | undefined;
  try {
    const owner = new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
    disk = await DiskCache.open({ dir: join(dir, 'cache'), maxBytes: 1 << 30 });
    const views = new ViewCatalog({ store: new CachedObjectStore(store, disk), tmpDir: tmpdir(), readers: new MemoryCache<SegmentReader>(1 << 30), defaultEf: 64 });
    const ids = async (name: string, view: Awaited<ReturnType<ViewCatalog['fresh']>>) =>
      (await view.query(parseQuery({ vector: [1, 1], top_k: 100, include_attributes: ['v'] }, view.schema, name, LIMITS)))
        .map((h) => `${h.id}:${(h.attributes as { v: string }).v}`).sort();

    await owner.create('n', schema);
    const ns = await owner.get('n');
    await ns.write({ kind: 'upsert', docs: [doc(1, 'a'), doc(2, 'a'), doc(3, 'a')] });
    await flushTail(ns);
    await ns.write({ kind: 'upsert', docs: [doc(2, 'b'), doc(4, 'b')] });
    await ns.write({ kind: 'delete', ids: [3n] });

    await t.test('a strong refresh sees segments, the tail, re-upserts and deletes', async () => {
      const view = await views.fresh('n');
      assert.deepEqual(await ids('n', view), ['1:a', '2:b', '4:b']);
      assert.equal(await view.get(3n), null);
      assert.equal(view.stats().documents, 3);
      await ns.write({ kind: 'upsert', docs: [doc(5, 'c')] });
      await flushTail(ns);
      await ns.write({ kind: 'upsert', docs: [doc(1, 'c')] });
      assert.deepEqual(await ids('n', await views.fresh('n')), ['1:c', '2:b', '4:b', '5:c']);
    });

    await t.test('an eventual read refreshes only when older than allowed', async () => {
      await views.fresh('n');
      await ns.write({ kind: 'upsert', docs: [doc(6, 'd')] });
      const stale = await views.recent('n', 60_000);
      assert.ok(!(await ids('n', stale.view)).includes('6:d'), 'within the staleness bound, no refresh');
      assert.ok(stale.ageMs < 60_000);
      const recent = await views.recent('n', 0);
      assert.ok((await ids('n', recent.view)).includes('6:d'));
    });

    await t.test('concurrent strong reads share refreshes', async () => {
      const before = store.total();
      await Promise.all(Array.from({ length: 10 }, () => views.fresh('n')));
      // One refresh running plus one queued behind it, each a pointer HEAD and a WAL LIST.
      assert.ok(store.total() - before <= 4, `${store.total() - before} requests for 10 concurrent refreshes`);
    });

    await t.test('a refresh of an unchanged namespace asks for the pointer etag, not the manifest it carries', async () => {
      await views.fresh('n');
      const before = store.counts();
      await views.fresh('n');
      const after = store.counts();
      assert.deepEqual({ get: after.get - before.get, head: after.head - before.head, list: after.list - before.list }, { get: 0, head: 1, list: 1 });
      await ns.write({ kind: 'upsert', docs: [doc(7, 'e')] });
      await flushTail(ns);
      assert.ok((await ids('n', await views.fresh('n'))).includes('7:e'), 'a changed pointer is read whole');
    });

    await t.test('a namespace deleted and created again is a new namespace to the view', async () => {
      // Same manifest version (1) and the same WAL seqs in both incarnations: only the pointer's
      // bytes tell them apart.
      await owner.create('m', schema);
      await (await owner.get('m')).write({ kind: 'upsert', docs: [doc(1, 'old'), doc(2, 'old')] });
      assert.deepEqual(await ids('m', await views.fresh('m')), ['1:old', '2:old']);
      await owner.delete('m');
      await owner.create('m', schema);
      const again = await owner.get('m');
      await again.write({ kind: 'upsert', docs: [doc(9, 'new')] });
      await again.write({ kind: 'upsert', docs: [doc(8, 'new')] });
      assert.deepEqual(await ids('m', await views.fresh('m')), ['8:new', '9:new']);
      await owner.delete('m');
      await assert.rejects(views.fresh('m'), { code: 'SILT_ERR_NAMESPACE_NOT_FOUND' });
    });
  } finally {
    await disk?.flush(); // its background writes would race the removal
    store.close();
    s3store.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
