// GC lists a namespace's objects, so the background indexer runs it only after something could
// have made garbage (a flush, a merge, any commit), plus once when that garbage is past the grace
// period. An idle namespace makes no LIST at all, however many rounds pass; a flushed one still
// has its folded WAL objects collected. Time is the indexer's injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { listAll } from '../../src/storage/object-store.ts';
import { walPrefix } from '../../src/storage/layout.ts';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { TEST_INDEXING, testApp } from '../support/app.ts';

const GRACE_SECS = 300;
const ROUND_SECS = 60;

test('an idle namespace is not listed by GC; a flushed one still has its garbage collected', async () => {
  const store = new CountingObjectStore(new MemoryObjectStore());
  const t = testApp({ store });
  let clock = Date.now();
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: GRACE_SECS },
  }, pino({ level: 'silent' }), () => clock);
  const rounds = async (n: number) => {
    for (let i = 0; i < n; i++) {
      clock += ROUND_SECS * 1000;
      for (const ns of t.catalog.openNamespaces()) await maintenance.check(ns);
    }
  };
  const walObjects = async () => {
    let n = 0;
    for await (const _ of listAll(store.inner, walPrefix('g'))) n++;
    return n;
  };

  assert.equal((await t.call('PUT', '/v1/namespaces/g', { vector_dim: 2 })).status, 201);
  for (let i = 0; i < 3; i++) {
    assert.equal((await t.call('POST', '/v1/namespaces/g/upsert', { documents: [{ id: i, vector: [1, i] }] })).status, 200);
  }
  const ns = await t.catalog.get('g');
  // After opening: one pass, once past the grace period, for what an earlier process left.
  await rounds(2 * GRACE_SECS / ROUND_SECS);

  store.reset();
  await rounds(20);
  assert.equal(store.counts().list, 0, `${store.counts().list} LISTs from an idle namespace over 20 rounds`);

  assert.equal(await flushTail(ns), true);
  assert.equal(await walObjects(), 3, 'folded WAL objects are garbage, but younger than the grace period');
  await rounds(GRACE_SECS / ROUND_SECS + 1);
  assert.equal(await walObjects(), 0, 'collected once past the grace period');

  store.reset();
  await rounds(20);
  assert.equal(store.counts().list, 0, 'idle again after collecting');
  await t.app.close();
});

test('a namespace just created or reopened is not listed by GC before the grace period has passed', async () => {
  const store = new CountingObjectStore(new MemoryObjectStore());
  const t = testApp({ store });
  let clock = Date.now();
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: GRACE_SECS },
  }, pino({ level: 'silent' }), () => clock);
  assert.equal((await t.call('PUT', '/v1/namespaces/fresh', { vector_dim: 2 })).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/fresh/upsert', { documents: [{ id: 1, vector: [1, 1] }] })).status, 200);
  store.reset();
  // GC deletes nothing younger than the grace period: 100k namespaces opened in turn listed 4 times each for nothing.
  for (let s = 0; s < GRACE_SECS - ROUND_SECS; s += ROUND_SECS) {
    clock += ROUND_SECS * 1000;
    for (const ns of t.catalog.openNamespaces()) await maintenance.check(ns);
  }
  assert.equal(store.counts().list, 0, `${store.counts().list} LISTs within the grace period after the open`);
  await t.app.close();
});

test('a namespace closed for idleness is never touched by the background indexer again', async () => {
  const store = new CountingObjectStore(new MemoryObjectStore());
  let clock = Date.now();
  const t = testApp({ store, indexing: { idle_close_secs: 60 }, now: () => clock });
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, compaction: { enabled: true, interval_secs: 60, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: GRACE_SECS },
  }, pino({ level: 'silent' }), () => clock);
  t.catalog.onOpen = (ns) => maintenance.watch(ns);
  t.catalog.onClose = (ns) => maintenance.release(ns);

  assert.equal((await t.call('PUT', '/v1/namespaces/c', { vector_dim: 2 })).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/c/upsert', { documents: [{ id: 1, vector: [1, 1] }] })).status, 200);
  const ns = await t.catalog.get('c');
  clock += 3600_000;
  // A check in flight when the close starts is waited for; none runs after it.
  const inFlight = maintenance.check(ns);
  assert.equal(await t.catalog.closeIdle(), 1);
  await inFlight;
  store.reset();
  for (let i = 0; i < 10; i++) {
    clock += 3600_000;
    await maintenance.check(ns);
  }
  assert.deepEqual(store.counts(), { get: 0, head: 0, put: 0, list: 0, delete: 0 });
  await t.app.close();
});
