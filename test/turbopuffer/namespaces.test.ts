// GET /v1/namespaces with prefix, page_size and cursor (the client's namespaces() iterator pages
// through it), and DELETE /v2/namespaces/:ns (the client's deleteAll()).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

const names = ['n-a1', 'n-a2', 'n-a3', 'n-a4', 'n-a5', 'n-b1', 'other'];

test('namespaces() pages through every name with the prefix, in order', async () => {
  for (const name of names) await server.client.namespace(name).write({ upsert_rows: [{ id: 1, vector: [1, 0] }] });
  const seen: string[] = [];
  for await (const ns of server.client.namespaces({ prefix: 'n-a', page_size: 2 })) seen.push(ns.id);
  assert.deepEqual(seen, ['n-a1', 'n-a2', 'n-a3', 'n-a4', 'n-a5']);
  const page = await server.silt.call('GET', '/v1/namespaces?prefix=n-&page_size=2', undefined, { authorization: `Bearer ${TPUF_KEY}` });
  assert.deepEqual(page.body, { namespaces: [{ id: 'n-a1' }, { id: 'n-a2' }], next_cursor: 'n-a2' });
  const last = await server.silt.call('GET', '/v1/namespaces?prefix=n-&page_size=2&cursor=n-a4', undefined, { authorization: `Bearer ${TPUF_KEY}` });
  assert.deepEqual(last.body, { namespaces: [{ id: 'n-a5' }, { id: 'n-b1' }], next_cursor: null });
  const all: string[] = [];
  for await (const ns of server.client.namespaces()) all.push(ns.id);
  assert.deepEqual(all, [...names].sort());
  for (const query of ['page_size=0', 'page_size=1001', 'prefix=../x', 'cursor=a/b']) {
    const bad = await server.silt.call('GET', `/v1/namespaces?${query}`, undefined, { authorization: `Bearer ${TPUF_KEY}` });
    assert.equal(bad.status, 400, query);
  }
});

test('deleteAll removes the namespace: it is gone from the list and its reads are 404', async () => {
  const ns = server.client.namespace('n-gone');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'x' }] });
  assert.deepEqual(await ns.deleteAll(), { status: 'OK' });
  assert.equal(await ns.exists(), false);
  const listed: string[] = [];
  for await (const n of server.client.namespaces({ prefix: 'n-gone' })) listed.push(n.id);
  assert.deepEqual(listed, []);
  await assert.rejects(ns.deleteAll(), (e: Error & { status?: number }) => e.status === 404);
  // The name can be written again, from nothing.
  await ns.write({ upsert_rows: [{ id: 2, vector: [1, 0, 0] }] });
  assert.equal((await ns.metadata()).approx_row_count, 1);
  assert.equal((await ns.schema()).title, undefined);
});
