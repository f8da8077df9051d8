// An indexer closes a namespace nobody used for indexing.idle_close_secs: its tail is flushed
// first (or left in the WAL when the flush fails), and the next request reopens it with every
// acknowledged document. A write racing the close is neither lost nor answered with a 5xx.
// Time is the catalog's injected clock; object-store calls are held open by a gate, not sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { testApp } from '../support/app.ts';
import { GatedStore } from '../support/gated-store.ts';

const IDLE_SECS = 60;
const SCHEMA = { vector_dim: 2, attributes: { v: { type: 'string' } } };
const docs = (ids: number[]) => ({ documents: ids.map((id) => ({ id, vector: [1, id], attributes: { v: `d${id}` } })) });

function setup(store: ObjectStore = new GatedStore()) {
  let clock = 1_000_000;
  const t = testApp({ store, indexing: { idle_close_secs: IDLE_SECS }, now: () => clock });
  return { t, advance: (secs: number) => { clock += secs * 1000; } };
}

async function documentIds(t: ReturnType<typeof setup>['t'], ids: number[]): Promise<number[]> {
  const found: number[] = [];
  for (const id of ids) {
    const res = await t.call('GET', `/v1/namespaces/n/documents/${id}`);
    if (res.status === 200) found.push(id);
  }
  return found;
}

test('an idle namespace is closed, its tail flushed; the next request reopens it whole', async () => {
  const { t, advance } = setup();
  assert.equal((await t.call('PUT', '/v1/namespaces/n', SCHEMA)).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/n/upsert', docs([1, 2, 3]))).status, 200);
  const before = await t.catalog.get('n');

  advance(IDLE_SECS - 1);
  assert.equal(await t.catalog.closeIdle(), 0, 'used within the idle period: stays open');
  advance(IDLE_SECS);
  assert.equal(await t.catalog.closeIdle(), 1);
  assert.deepEqual(t.catalog.openNamespaces(), []);
  assert.equal((await t.call('GET', '/stats')).body.namespaces_closed_idle_total, 1);
  assert.match((await t.app.inject({ method: 'GET', url: '/metrics' })).body, /^silt_namespaces_closed_idle_total 1$/m);

  const stats = (await t.call('GET', '/v1/namespaces/n')).body;
  assert.equal(stats.unindexed_documents, 0, 'the tail was folded into a segment before closing');
  assert.deepEqual(await documentIds(t, [1, 2, 3]), [1, 2, 3]);
  assert.notEqual(await t.catalog.get('n'), before, 'reopened from object storage');
  await t.app.close();
});

test('a tail whose flush fails stays in the WAL and comes back on reopen', async () => {
  const store = new GatedStore();
  const { t, advance } = setup(store);
  assert.equal((await t.call('PUT', '/v1/namespaces/n', SCHEMA)).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/n/upsert', docs([1, 2]))).status, 200);
  store.fail = true;
  store.hold('segment');
  advance(IDLE_SECS);
  assert.equal(await t.catalog.closeIdle(), 1);
  store.fail = false;
  store.open();
  assert.equal((await t.call('GET', '/v1/namespaces/n')).body.unindexed_documents, 2);
  assert.deepEqual(await documentIds(t, [1, 2]), [1, 2]);
  await t.app.close();
});

test('a write arriving while the namespace closes waits, reopens it, and is kept', async () => {
  const store = new GatedStore();
  const { t, advance } = setup(store);
  assert.equal((await t.call('PUT', '/v1/namespaces/n', SCHEMA)).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/n/upsert', docs([1, 2]))).status, 200);
  store.hold('segment');
  advance(IDLE_SECS);
  const closing = t.catalog.closeIdle();
  await store.reached; // the close is flushing: the namespace has left the catalog
  const write = t.call('POST', '/v1/namespaces/n/upsert', docs([3]));
  const read = t.call('GET', '/v1/namespaces/n/documents/1');
  store.open();
  assert.equal(await closing, 1);
  assert.equal((await write).status, 200);
  assert.equal((await read).status, 200);
  assert.deepEqual(await documentIds(t, [1, 2, 3]), [1, 2, 3]);
  await t.app.close();
});

test('a write in flight when the close starts is drained by the old instance, then kept', async () => {
  const store = new GatedStore();
  const { t, advance } = setup(store);
  assert.equal((await t.call('PUT', '/v1/namespaces/n', SCHEMA)).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/n/upsert', docs([1]))).status, 200);
  store.hold('wal');
  const write = t.call('POST', '/v1/namespaces/n/upsert', docs([2]));
  await store.reached; // its WAL object is being written
  advance(IDLE_SECS);
  const closing = t.catalog.closeIdle();
  store.open();
  assert.equal(await closing, 1);
  assert.equal((await write).status, 200);
  assert.deepEqual(await documentIds(t, [1, 2]), [1, 2]);
  await t.app.close();
});
