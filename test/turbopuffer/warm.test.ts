// GET /v1/namespaces/:ns/hint_cache_warm through turbopuffer's client: 202 ACCEPTED once the
// namespace is open on this node (the owner) or its view is (a query node); a second hint on a
// warm node reads nothing from object storage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { queryNode } from '../support/app.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

const store = new CountingObjectStore(new MemoryObjectStore());
/** The catalog's clock, moved on to make namespaces idle. */
let clock = 0;
let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer({ store, now: () => clock, indexing: { idle_close_secs: 60 } });
});
after(() => server.close());

test('the owner opens a closed namespace on the hint; a second hint costs no object-store request', async () => {
  const ns = server.client.namespace('warm-owner');
  await ns.write({ upsert_rows: Array.from({ length: 20 }, (_, i) => ({ id: i, vector: [i, 1], title: `t${i}` })) });
  assert.equal((await server.silt.call('POST', '/v1/namespaces/warm-owner/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` })).status, 200);
  // Closed as an idle node closes it: the next request must read it back from the store.
  clock += 61_000;
  assert.ok(await server.silt.catalog.closeIdle() >= 1);
  assert.ok(server.silt.catalog.openNamespaces().every((n) => n.name !== 'warm-owner'));
  store.reset();
  assert.deepEqual(await ns.hintCacheWarm(), { status: 'ACCEPTED' });
  assert.ok(store.counts().get > 0, 'a cold namespace is read on the hint');
  assert.ok(server.silt.catalog.openNamespaces().some((n) => n.name === 'warm-owner'));
  store.reset();
  assert.deepEqual(await ns.hintCacheWarm(), { status: 'ACCEPTED' });
  assert.equal(store.total(), 0, JSON.stringify(store.counts()));
});

test('a query node opens its view on the hint; a second hint costs no object-store request', async () => {
  const ns = server.client.namespace('warm-view');
  await ns.write({ upsert_rows: Array.from({ length: 20 }, (_, i) => ({ id: i, vector: [i, 1] })) });
  assert.equal((await server.silt.call('POST', '/v1/namespaces/warm-view/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` })).status, 200);
  const qn = queryNode(server.silt, server.baseURL);
  try {
    store.reset();
    const first = await qn.inject({ method: 'GET', url: '/v1/namespaces/warm-view/hint_cache_warm' });
    assert.equal(first.statusCode, 202, first.body);
    assert.deepEqual(JSON.parse(first.body), { status: 'ACCEPTED' });
    const reads = store.counts();
    assert.ok(reads.get > 0, `the view read the manifest and the segment: ${JSON.stringify(reads)}`);
    store.reset();
    const second = await qn.inject({ method: 'GET', url: '/v1/namespaces/warm-view/hint_cache_warm' });
    assert.equal(second.statusCode, 202);
    assert.equal(store.total(), 0, JSON.stringify(store.counts()));
    const missing = await qn.inject({ method: 'GET', url: '/v1/namespaces/warm-nothing/hint_cache_warm' });
    assert.equal(missing.statusCode, 404);
  } finally {
    await qn.close();
  }
});
