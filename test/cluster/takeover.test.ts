// Ownership moves (the node list changed) while the old owner still runs: the new owner takes
// over from object storage, the old one is fenced by the manifest's compare-and-swap as soon as
// it tries to commit, and no write either of them acknowledged is lost or overwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { ManifestConflictError } from '../../src/manifest/manifest.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import type { Document } from '../../src/schema/types.ts';
import { TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { who: { type: 'string' } } });
const doc = (id: number, who: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { who } });

test('an old owner that still runs is fenced and loses nothing; the new owner takes over', async () => {
  const store = new MemoryObjectStore();
  const deps = { store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS };
  const oldOwner = new NamespaceCatalog(deps);
  const newOwner = new NamespaceCatalog(deps);
  await oldOwner.create('t', schema);

  const a = await oldOwner.get('t');
  await a.write({ kind: 'upsert', docs: [doc(1, 'old'), doc(2, 'old')] });
  await flushTail(a);
  await a.write({ kind: 'upsert', docs: [doc(3, 'old')] });

  // The new owner opens from object storage: the segment plus the WAL after the watermark.
  const b = await newOwner.get('t');
  assert.deepEqual(await Promise.all([1, 2, 3].map(async (id) => (await b.get(BigInt(id)))?.attributes.who)), ['old', 'old', 'old']);
  await b.write({ kind: 'upsert', docs: [doc(2, 'new'), doc(4, 'new')] });
  await flushTail(b);

  // The old owner's next WAL put collides with the new owner's seq (create-if-absent never
  // overwrites): refused with 409, not applied. It then catches up with what the new owner
  // wrote, and a retry lands after it.
  await assert.rejects(a.write({ kind: 'upsert', docs: [doc(5, 'lost')] }), { code: 'SILT_ERR_NAMESPACE_WRITE_CONFLICT' });
  await a.write({ kind: 'upsert', docs: [doc(5, 'old')] });
  assert.equal((await a.get(4n))?.attributes.who, 'new', 'the old owner replayed what the new one wrote');
  // Its manifest commit loses the compare-and-swap: fenced.
  await assert.rejects(flushTail(a), ManifestConflictError);

  // Maintenance hands a fenced namespace back to its catalog, which reopens it on next use.
  const maintenance = new Maintenance(() => [a], { ...TEST_INDEXING, flush_interval_secs: 0, compaction: {
    enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1e6, gc_grace_secs: 300,
  } }, pino({ level: 'silent' }));
  const fenced = new Promise<void>((resolve) => {
    maintenance.onFenced = (ns) => void oldOwner.evict(ns).then(resolve);
  });
  await maintenance.check(a);
  await fenced;
  await assert.rejects(a.write({ kind: 'upsert', docs: [doc(6, 'old')] }), { code: 'SILT_ERR_NAMESPACE_WRITE_CONFLICT' });
  const reopened = await oldOwner.get('t');
  assert.notEqual(reopened, a);

  // Whatever either acknowledged is there, newest version first, for any reader.
  const reader = await new NamespaceCatalog(deps).get('t');
  assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map(async (id) => (await reader.get(BigInt(id)))?.attributes.who)), ['old', 'new', 'old', 'new', 'old']);
  assert.equal(await reader.get(6n), null, 'the write refused with 409 was not applied');
  assert.equal(reader.stats().documents, 5);
});
