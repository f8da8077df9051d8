// GET /v1/namespaces/:ns/documents: every live document once, in id order (u64 ids ascending,
// then string ids), a page at a time: `after` the last id of the previous page, `limit` its size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryNode, testApp, type TestApp } from '../support/app.ts';

const SCHEMA = { vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string' } } };

async function all(t: { inject: TestApp['app']['inject'] }, ns: string, limit: number): Promise<{ ids: unknown[]; pages: number }> {
  const ids: unknown[] = [];
  let after: unknown = null;
  let pages = 0;
  for (;;) {
    const q = `limit=${limit}${after === null ? '' : `&after=${encodeURIComponent(String(after))}`}`;
    const res = await t.inject({ method: 'GET', url: `/v1/namespaces/${ns}/documents?${q}` });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body) as { documents: Array<{ id: unknown }>; next_after: unknown };
    pages++;
    ids.push(...body.documents.map((d) => d.id));
    if (body.next_after === null) return { ids, pages };
    after = body.next_after;
  }
}

async function setup(): Promise<TestApp> {
  const t = testApp();
  assert.equal((await t.call('PUT', '/v1/namespaces/ls', SCHEMA)).status, 201);
  const docs = (ids: Array<number | string>) => ({ documents: ids.map((id) => ({ id, vector: [1, 2], attributes: { title: `t${id}` } })) });
  // A segment, then a tail that updates and deletes some of its documents.
  assert.equal((await t.call('POST', '/v1/namespaces/ls/upsert', docs([5, 1, 'b', 3, '18446744073709551615', 'a', 2]))).status, 200);
  assert.equal((await t.call('POST', '/v1/namespaces/ls/flush')).status, 200);
  assert.equal((await t.call('POST', '/v1/namespaces/ls/upsert', docs([4, 3, 'c']))).status, 200);
  assert.equal((await t.call('POST', '/v1/namespaces/ls/delete', { ids: [2, 'b'] })).status, 200);
  return t;
}

const EXPECTED = [1, 3, 4, 5, '18446744073709551615', 'a', 'c'];

test('pages list every live document once, in id order, across segments and the tail', async () => {
  const t = await setup();
  for (const limit of [1, 2, 3, 7, 100]) assert.deepEqual((await all(t.app, 'ls', limit)).ids, EXPECTED, `limit ${limit}`);
  const page = await t.call('GET', '/v1/namespaces/ls/documents?limit=2&after=3');
  assert.deepEqual(page.body, {
    documents: [{ id: 4, vector: [1, 2], attributes: { title: 't4' } }, { id: 5, vector: [1, 2], attributes: { title: 't5' } }],
    next_after: 5,
  });
  assert.deepEqual((await t.call('GET', '/v1/namespaces/ls/documents?after=a')).body, { documents: [{ id: 'c', vector: [1, 2], attributes: { title: 'tc' } }], next_after: null });
});

test('a bad limit or after is a 400 naming it; an unknown namespace is 404', async () => {
  const t = await setup();
  for (const q of ['limit=0', 'limit=10001', 'limit=x']) {
    const res = await t.call('GET', `/v1/namespaces/ls/documents?${q}`);
    assert.equal(res.status, 400, q);
    assert.match(res.body.error.message, /limit/);
  }
  const bad = await t.call('GET', `/v1/namespaces/ls/documents?after=${'x'.repeat(65)}`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /^after/);
  assert.equal((await t.call('GET', '/v1/namespaces/nope/documents')).status, 404);
});

test('a query node relays the listing to the owner, and serves it from storage when the owner is down', async () => {
  const owner = await setup();
  assert.equal((await owner.call('POST', '/v1/namespaces/ls/flush')).status, 200);
  const url = await owner.app.listen({ host: '127.0.0.1', port: 0 });
  const qn = queryNode(owner, url, { forwardTimeoutMs: 500 });
  try {
    assert.deepEqual((await all(qn, 'ls', 3)).ids, EXPECTED);
    await owner.app.close();
    const res = await qn.inject({ method: 'GET', url: '/v1/namespaces/ls/documents?limit=3&after=4' });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.served_from, 'object_storage');
    assert.deepEqual(body.documents.map((d: { id: unknown }) => d.id), [5, '18446744073709551615', 'a']);
  } finally {
    await qn.close();
  }
});
