// An indexer keeps what its open namespaces hold (tails, segments, a fixed overhead each) within
// a memory budget by closing the least recently used, the way idle close does: tail flushed or
// left in the WAL, the next request reopens it whole. Object-store puts are held by a gate, not sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAMESPACE_OVERHEAD_BYTES } from '../../src/indexer/memory.ts';
import { testApp } from '../support/app.ts';
import { GatedStore } from '../support/gated-store.ts';

const SCHEMA = { vector_dim: 2, attributes: { v: { type: 'string' } } };
const docs = (ns: number, ids: number[]) => ({ documents: ids.map((id) => ({ id, vector: [ns, id], attributes: { v: `n${ns}d${id}` } })) });
/** Room for about two namespaces' overhead: a third open one is over it. */
const TINY = 2.5 * NAMESPACE_OVERHEAD_BYTES;

type App = ReturnType<typeof testApp>;

async function answers(t: App, ns: number, ids: number[]): Promise<void> {
  for (const id of ids) {
    const res = await t.call('GET', `/v1/namespaces/n${ns}/documents/${id}`);
    assert.equal(res.status, 200, `n${ns} document ${id}`);
    assert.equal(res.body.attributes.v, `n${ns}d${id}`);
  }
  const hits = (await t.call('POST', `/v1/namespaces/n${ns}/query`, { vector: [ns, ids[0]!], top_k: ids.length })).body.results;
  assert.deepEqual(hits.map((h: { id: number }) => h.id).sort(), [...ids].sort(), `n${ns} query`);
}

test('with a tiny budget, namespaces written and queried in turn all answer, and few stay open', async () => {
  const t = testApp({ memoryBudget: TINY });
  const COUNT = 10;
  let closed = 0;
  for (let i = 0; i < COUNT; i++) {
    assert.equal((await t.call('PUT', `/v1/namespaces/n${i}`, SCHEMA)).status, 201);
    assert.equal((await t.call('POST', `/v1/namespaces/n${i}/upsert`, docs(i, [1, 2, 3]))).status, 200);
    await answers(t, i, [1, 2, 3]);
    closed += await t.catalog.closeOverBudget();
    assert.ok(t.catalog.openNamespaces().length <= 2, `${t.catalog.openNamespaces().length} open after n${i}`);
    assert.ok(t.catalog.memory().total <= TINY);
  }
  // Each reopened from object storage, in turn, with a write after its close.
  for (let i = 0; i < COUNT; i++) {
    assert.equal((await t.call('POST', `/v1/namespaces/n${i}/upsert`, docs(i, [4]))).status, 200);
    await answers(t, i, [1, 2, 3, 4]);
    closed += await t.catalog.closeOverBudget();
    assert.ok(t.catalog.openNamespaces().length <= 2);
  }
  assert.ok(closed >= 2 * COUNT - 4, `${closed} closed`);
  const stats = (await t.call('GET', '/stats')).body;
  assert.ok(stats.namespaces_closed_memory_total >= closed);
  assert.equal(stats.memory.namespaces_overhead, t.catalog.openNamespaces().length * NAMESPACE_OVERHEAD_BYTES);
  for (const kind of ['tails', 'segments', 'views', 'heap', 'array_buffers', 'rss']) assert.equal(typeof stats.memory[kind], 'number', kind);
  const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^silt_memory_bytes\{kind="namespaces_overhead"\} \d+$/m);
  assert.match(metrics, /^silt_namespaces_closed_memory_total [1-9]\d*$/m);
  await t.app.close();
});

test('under the budget nothing is closed', async () => {
  const t = testApp({ memoryBudget: 100 * NAMESPACE_OVERHEAD_BYTES });
  for (let i = 0; i < 5; i++) {
    assert.equal((await t.call('PUT', `/v1/namespaces/n${i}`, SCHEMA)).status, 201);
    assert.equal((await t.call('POST', `/v1/namespaces/n${i}/upsert`, docs(i, [1]))).status, 200);
  }
  assert.equal(await t.catalog.closeOverBudget(), 0);
  assert.equal(t.catalog.openNamespaces().length, 5);
  await t.app.close();
});

test('a write arriving while a budget close flushes its namespace waits, reopens it, and is kept', async () => {
  const store = new GatedStore();
  const t = testApp({ store, memoryBudget: 1.5 * NAMESPACE_OVERHEAD_BYTES });
  for (const i of [0, 1]) {
    assert.equal((await t.call('PUT', `/v1/namespaces/n${i}`, SCHEMA)).status, 201);
    assert.equal((await t.call('POST', `/v1/namespaces/n${i}/upsert`, docs(i, [1, 2]))).status, 200);
  }
  store.hold('segment');
  const closing = t.catalog.closeOverBudget();
  await store.reached; // n0, the least recently used, is flushing: it has left the catalog
  const write = t.call('POST', '/v1/namespaces/n0/upsert', docs(0, [3]));
  const read = t.call('GET', '/v1/namespaces/n0/documents/1');
  store.open();
  assert.equal(await closing, 1);
  assert.equal((await write).status, 200);
  assert.equal((await read).status, 200);
  await answers(t, 0, [1, 2, 3]);
  await answers(t, 1, [1, 2]);
  await t.app.close();
});

test('a namespace taken again after the budget close chose it stays open', async () => {
  const t = testApp({ memoryBudget: 1.5 * NAMESPACE_OVERHEAD_BYTES });
  for (const i of [0, 1]) {
    assert.equal((await t.call('PUT', `/v1/namespaces/n${i}`, SCHEMA)).status, 201);
    assert.equal((await t.call('POST', `/v1/namespaces/n${i}/upsert`, docs(i, [1]))).status, 200);
  }
  const closing = t.catalog.closeOverBudget(); // chooses n0, the least recently used
  const taken = t.catalog.get('n0'); // a request takes it before the close reaches it
  assert.equal(await closing, 0);
  assert.equal(await t.catalog.get('n0'), await taken, 'the instance the request holds is still the open one');
  assert.equal((await t.call('POST', '/v1/namespaces/n0/upsert', docs(0, [2]))).status, 200);
  await answers(t, 0, [1, 2]);
  await t.app.close();
});
