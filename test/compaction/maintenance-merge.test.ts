// The background indexer asks the merge policy right after a flush changed the segment list, not
// once an hour: query cost grows with the segment count (issue 9), so small flush segments must
// fold together within a tick. Time is the indexer's injected clock, moved a second at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { TEST_INDEXING, testApp } from '../support/app.ts';
import { GatedStore } from '../support/gated-store.ts';

test('a flush is followed by a merge check without waiting for compaction.interval_secs', async () => {
  const t = testApp();
  let clock = Date.now();
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, flush_docs: 2,
    compaction: { enabled: true, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, pino({ level: 'silent' }), () => clock);

  assert.equal((await t.call('PUT', '/v1/namespaces/m', { vector_dim: 2 })).status, 201);
  const ns = await t.catalog.get('m');
  const flushTwo = async (first: number) => {
    const documents = [{ id: first, vector: [1, first] }, { id: first + 1, vector: [1, first + 1] }];
    assert.equal((await t.call('POST', '/v1/namespaces/m/upsert', { documents })).status, 200);
    clock += 1000;
    await maintenance.check(ns);
  };
  await flushTwo(0);
  assert.equal(ns.segments.length, 1, 'the first tail was flushed');
  await flushTwo(2);
  // The second check flushed a second tiny segment and merged both, a second after the first.
  assert.equal(ns.segments.length, 1, `${ns.segments.length} segments a second after the second flush`);
  assert.equal(ns.segments[0]!.size, 4);
  const info = (await t.call('GET', '/v1/namespaces/m')).body;
  assert.equal(info.documents, 4);
  assert.equal(info.unindexed_documents, 0);
  await t.app.close();
});

test('while writes keep the tail due for a flush, merges wait: the next flush is not held back by a merge', async () => {
  const store = new GatedStore();
  const t = testApp({ store });
  let clock = Date.now();
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, flush_docs: 2,
    compaction: { enabled: true, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, pino({ level: 'silent' }), () => clock);
  assert.equal((await t.call('PUT', '/v1/namespaces/m', { vector_dim: 2 })).status, 201);
  const ns = await t.catalog.get('m');
  const writeTwo = async (first: number) => {
    const documents = [{ id: first, vector: [1, first] }, { id: first + 1, vector: [1, first + 1] }];
    assert.equal((await t.call('POST', '/v1/namespaces/m/upsert', { documents })).status, 200);
  };
  await writeTwo(0);
  clock += 1000;
  await maintenance.check(ns);
  await writeTwo(2);
  // Two more documents arrive while the second flush uploads its segment: the tail is due again.
  store.hold('segment');
  clock += 1000;
  const check = maintenance.check(ns);
  await store.reached;
  await writeTwo(4);
  store.open();
  await check;
  assert.equal(ns.segments.length, 2, 'the two tiny segments wait for the flush that is due');
  assert.equal(ns.memtable.size, 2);
  clock += 1000;
  await maintenance.check(ns);
  // That flush leaves the tail empty, and the merge follows in the same check.
  assert.equal(ns.memtable.size, 0);
  assert.equal(ns.segments.length, 1);
  assert.equal(ns.segments[0]!.size, 6);
  await t.app.close();
});
