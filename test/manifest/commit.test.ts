// The manifest commit protocol under crashes and lost responses: an orphan version (written, never
// named by the pointer) must not wedge the namespace, a pointer swap whose response was lost is a
// success, a stale owner still loses, and GC clears orphans once no commit can still swap to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { withRetry } from '../../src/storage/retry.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { ManifestConflictError, ManifestStore } from '../../src/manifest/manifest.ts';
import { manifestVersionKey } from '../../src/storage/layout.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import type { Document } from '../../src/schema/types.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const doc = (id: number, v: string): Document => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } });
const POINTER = /\/manifest\/current$/;
const VERSION = /\/manifest\/\d{20}\.json$/;

const catalogOver = (store: ObjectStore) => new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
const faulty = (inner: ObjectStore, seed = 1) => new FaultyObjectStore(inner, { random: rng(seed), sleep: async () => {} });

async function manifestKeys(store: ObjectStore, ns: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listAll(store, `${ns}/manifest/`)) out.push(o.key);
  return out;
}

/** A namespace with one segment (docs 1, 2) and doc 3 in the tail; the next flush commits a version. */
async function seeded(store: ObjectStore) {
  const catalog = catalogOver(store);
  await catalog.create('c', schema);
  const ns = await catalog.get('c');
  await ns.write({ kind: 'upsert', docs: [doc(1, 'a'), doc(2, 'a')] });
  await flushTail(ns);
  await ns.write({ kind: 'upsert', docs: [doc(3, 'a')] });
  return { catalog, ns };
}

/** Crashes the process between the manifest version put and the pointer swap of a flush. */
async function crashBeforePointer(inner: MemoryObjectStore) {
  const store = faulty(inner);
  const { ns } = await seeded(store);
  const base = ns.loaded.manifest.version;
  store.inject({ ops: ['put'], key: POINTER, nth: 1, fault: { type: 'crash', when: 'before' } });
  await assert.rejects(flushTail(ns), /injected crash/);
  assert.ok((await manifestKeys(inner, 'c')).includes(manifestVersionKey('c', base + 1)), 'an orphan version was left');
  return base;
}

async function assertAllThere(store: ObjectStore, ids: number[]) {
  const ns = await catalogOver(store).get('c');
  for (const id of ids) assert.ok(await ns.get(BigInt(id)), `document ${id} is there`);
  return ns;
}

test('after a crash left an orphan version, a restarted owner flushes again', async () => {
  const inner = new MemoryObjectStore();
  const base = await crashBeforePointer(inner);
  const ns = await assertAllThere(inner, [1, 2, 3]);
  assert.equal(ns.loaded.manifest.version, base, 'the pointer never named the orphan');
  await ns.write({ kind: 'upsert', docs: [doc(4, 'b')] });
  assert.equal(await flushTail(ns), true);
  assert.equal(ns.stats().unindexed_documents, 0);
  assert.ok(ns.loaded.manifest.version > base + 1, 'the commit took a number above the orphan');
  // And again: the protocol is not merely lucky once.
  await ns.write({ kind: 'upsert', docs: [doc(5, 'b')] });
  assert.equal(await flushTail(ns), true);
  await assertAllThere(inner, [1, 2, 3, 4, 5]);
});

test('when retries run out between version and pointer, the same node commits on its next try, without fencing itself', async () => {
  const inner = new MemoryObjectStore();
  const store = faulty(inner);
  const { ns } = await seeded(store);
  store.inject({ ops: ['put'], key: POINTER, nth: 1, fault: { type: 'error' } });
  await assert.rejects(flushTail(ns), (e) => !(e instanceof ManifestConflictError));
  // The background indexer's next round: it must flush, not fence the node.
  const maintenance = new Maintenance(() => [ns], { ...TEST_INDEXING, flush_docs: 1, flush_interval_secs: 0, compaction: {
    enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1e6, gc_grace_secs: 300,
  } }, pino({ level: 'silent' }));
  let fenced = 0;
  maintenance.onFenced = () => { fenced++; };
  for (let round = 0; round < 3; round++) {
    await ns.write({ kind: 'upsert', docs: [doc(10 + round, 'm')] });
    await maintenance.check(ns);
    assert.equal(ns.stats().unindexed_documents, 0, `round ${round}: the tail was flushed`);
  }
  assert.equal(fenced, 0);
  await assertAllThere(inner, [1, 2, 3, 10, 11, 12]);
});

test('a lost response on the pointer swap is reported as the success it was', async () => {
  for (const retried of [false, true]) {
    const inner = new MemoryObjectStore();
    const faults = faulty(inner);
    const store: ObjectStore = retried ? withRetry(faults, { maxRetries: 2, baseDelayMs: 0, maxDelayMs: 0 }) : faults;
    const { ns } = await seeded(store);
    // Applied, response lost; with the retry layer every retry then fails too (retries run out).
    faults.inject({ ops: ['put'], key: POINTER, nth: 1, fault: { type: 'lost_response' } });
    if (retried) faults.inject({ ops: ['put'], key: POINTER, times: 2, fault: { type: 'error' } });
    assert.equal(await flushTail(ns), true, `flush succeeds (retry layer: ${retried})`);
    const pointer = await new ManifestStore(inner).loadPointer('c');
    assert.equal(pointer?.version, ns.loaded.manifest.version);
    assert.equal(ns.loaded.pointerEtag, pointer?.etag, 'the writer holds the stored etag');
    await ns.write({ kind: 'upsert', docs: [doc(4, 'b')] });
    assert.equal(await flushTail(ns), true, 'and the next commit builds on it');
  }
});

test('a lost response on the version create: the next commit succeeds', async () => {
  const inner = new MemoryObjectStore();
  const store = faulty(inner);
  const { ns } = await seeded(store);
  store.inject({ ops: ['put'], key: VERSION, nth: 1, fault: { type: 'lost_response' } });
  await assert.rejects(flushTail(ns), /response was lost/);
  assert.equal(await flushTail(ns), true);
  await assertAllThere(inner, [1, 2, 3]);
});

test('a stale owner still loses with ManifestConflictError, also when its version number is free', async () => {
  const inner = new MemoryObjectStore();
  await crashBeforePointer(inner);
  const stale = await catalogOver(inner).get('c');
  const owner = await catalogOver(inner).get('c');
  await owner.write({ kind: 'upsert', docs: [doc(4, 'new')] });
  assert.equal(await flushTail(owner), true);
  const winner = owner.loaded.manifest.version;

  // The orphan sits below the new current version: GC (grace passed) takes it, freeing its number.
  await collectGarbage(inner, 'c', owner.loaded.manifest, 0, Date.now() + 1000);
  // To the stale owner the winner's version looks like an orphan above its own: its GC must
  // not judge, even with no grace period at all.
  assert.deepEqual(await collectGarbage(inner, 'c', stale.loaded.manifest, 0, Date.now() + 1000), { wal: 0, segments: 0, manifests: 0 });
  assert.ok(await inner.head(manifestVersionKey('c', winner)));
  await stale.write({ kind: 'upsert', docs: [doc(5, 'stale')] });
  await assert.rejects(flushTail(stale), ManifestConflictError);
  assert.equal((await new ManifestStore(inner).loadPointer('c'))?.version, winner, 'the pointer still names the winner');
  const reader = await catalogOver(inner).get('c');
  assert.equal((await reader.get(4n))?.attributes.v, 'new');
});

test('GC removes an orphan version and its segment after the grace period, and keeps the current chain', async () => {
  const inner = new MemoryObjectStore();
  await crashBeforePointer(inner);
  const ns = await catalogOver(inner).get('c');
  const current = ns.loaded.manifest;
  const orphanKey = manifestVersionKey('c', current.version + 1);
  const orphan = JSON.parse((await inner.get(orphanKey)).body.toString()) as typeof current;
  const orphanSegments = orphan.segments.map((s) => s.key).filter((k) => !current.segments.some((s) => s.key === k));
  assert.equal(orphanSegments.length, 1);

  // Within the grace period an in-flight commit may still swap to it: kept.
  await collectGarbage(inner, 'c', current, 60_000);
  assert.ok(await inner.head(orphanKey));
  const removed = await collectGarbage(inner, 'c', current, 60_000, Date.now() + 120_000);
  assert.equal(await inner.head(orphanKey), null, 'the orphan version is gone');
  assert.equal(await inner.head(orphanSegments[0]!), null, 'its segment is gone');
  assert.ok(removed.manifests >= 1 && removed.segments >= 1);
  for (const s of current.segments) assert.ok(await inner.head(s.key), 'segments of the current version stay');
  assert.ok(await inner.head(manifestVersionKey('c', current.version)));
  const reopened = await assertAllThere(inner, [1, 2, 3]);
  await reopened.write({ kind: 'upsert', docs: [doc(4, 'b')] });
  assert.equal(await flushTail(reopened), true);
});
