import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../support/app.ts';

const schema = {
  vector_dim: 3,
  vector_metric: 'cosine',
  attributes: { title: { type: 'string', full_text: true }, year: { type: 'integer' } },
};

test('the guide example: a 3-dimension vector in a 768-dimension namespace is a clear 400', async () => {
  const { call } = testApp();
  const created = await call('PUT', '/v1/namespaces/my-docs', {
    vector_dim: 768,
    vector_metric: 'cosine',
    attributes: { title: { type: 'string', full_text: true } },
  });
  assert.equal(created.status, 201);
  const res = await call('POST', '/v1/namespaces/my-docs/upsert', {
    documents: [{ id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World' } }],
  });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'SILT_ERR_DOCUMENT_VECTOR_DIMENSION');
  assert.match(res.body.error.message, /vector has 3 dimensions; namespace 'my-docs' expects 768/);
});

test('creating again with the same schema is 200, a different one 409, the wrapped form is accepted', async () => {
  const { call } = testApp();
  assert.equal((await call('PUT', '/v1/namespaces/a', schema)).status, 201);
  assert.equal((await call('PUT', '/v1/namespaces/a', { schema })).status, 200);
  const conflict = await call('PUT', '/v1/namespaces/a', { ...schema, vector_dim: 4 });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, 'SILT_ERR_NAMESPACE_SCHEMA_CONFLICT');
  assert.match(conflict.body.error.message, /vector_dim 3 vs 4/);
});

test('bad schemas and names are 400s naming the field', async () => {
  const { call } = testApp();
  const cases: Array<[string, unknown, RegExp]> = [
    ['/v1/namespaces/x', { vector_dim: 0 }, /schema.vector_dim/],
    ['/v1/namespaces/x', { vector_dim: 3, vector_metric: 'hamming' }, /vector_metric: must be one of cosine, l2, dot/],
    ['/v1/namespaces/x', { vector_dim: 3, attributes: { n: { type: 'integer', full_text: true } } }, /full_text needs a string/],
    ['/v1/namespaces/x', { vector_dim: 3, attributes: { n: { type: 'date' } } }, /schema.attributes.n.type/],
    ['/v1/namespaces/x', { vector_dim: 3, extra: 1 }, /schema.extra: unknown field/],
    ['/v1/namespaces/.hidden', schema, /namespace name '.hidden' is invalid/],
  ];
  for (const [url, body, message] of cases) {
    const res = await call('PUT', url, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.body.error.message, message);
  }
  assert.deepEqual((await call('GET', '/v1/namespaces')).body, { namespaces: [], next_cursor: null });
});

test('list, describe and delete namespaces', async () => {
  const { call } = testApp();
  await call('PUT', '/v1/namespaces/one', schema);
  await call('PUT', '/v1/namespaces/two', schema);
  assert.deepEqual((await call('GET', '/v1/namespaces')).body.namespaces, [{ id: 'one' }, { id: 'two' }]);
  await call('POST', '/v1/namespaces/one/upsert', { documents: [{ id: 1, vector: [1, 0, 0], attributes: { title: 'x' } }] });
  const info = await call('GET', '/v1/namespaces/one');
  assert.equal(info.status, 200);
  assert.equal(info.body.documents, 1);
  assert.equal(info.body.unindexed_documents, 1);
  assert.equal(info.body.wal_entries, 1);
  assert.ok(info.body.wal_bytes > 0);
  assert.equal(info.body.schema.attributes.title.full_text.language, 'english');

  assert.equal((await call('DELETE', '/v1/namespaces/one')).status, 200);
  assert.equal((await call('GET', '/v1/namespaces/one')).status, 404);
  assert.equal((await call('DELETE', '/v1/namespaces/one')).status, 404);
  assert.deepEqual((await call('GET', '/v1/namespaces')).body.namespaces, [{ id: 'two' }]);
  const missing = await call('POST', '/v1/namespaces/one/query', { vector: [1, 0, 0] });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'SILT_ERR_NAMESPACE_NOT_FOUND');

  // Re-created under the same name, it starts empty.
  assert.equal((await call('PUT', '/v1/namespaces/one', { ...schema, vector_dim: 2 })).status, 201);
  assert.equal((await call('GET', '/v1/namespaces/one')).body.documents, 0);
});

test('malformed JSON, unknown routes and oversized bodies get JSON errors', async () => {
  const { call } = testApp({ bodyLimit: 1024 });
  const bad = await call('PUT', '/v1/namespaces/x', '{"vector_dim": 3');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'SILT_ERR_REQUEST_INVALID_JSON');
  const nope = await call('GET', '/v9/nothing');
  assert.equal(nope.status, 404);
  assert.equal(nope.body.error.code, 'SILT_ERR_ROUTE_NOT_FOUND');
  await call('PUT', '/v1/namespaces/x', schema);
  const big = await call('POST', '/v1/namespaces/x/upsert', { documents: [{ id: 1, vector: [1, 2, 3], attributes: { title: 'a'.repeat(2000) } }] });
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, 'SILT_ERR_REQUEST_TOO_LARGE');
});
