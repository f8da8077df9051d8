import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../support/app.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';

const schema = {
  vector_dim: 2,
  vector_metric: 'l2',
  attributes: {
    title: { type: 'string', full_text: true },
    year: { type: 'integer' },
    price: { type: 'float' },
    tags: { type: 'array<string>' },
    ok: { type: 'boolean' },
  },
};

async function setup() {
  const t = testApp();
  assert.equal((await t.call('PUT', '/v1/namespaces/docs', schema)).status, 201);
  return t;
}

test('wrong attribute types are 400s and the batch is not half-applied', async () => {
  const { call } = await setup();
  const cases: Array<[unknown, RegExp]> = [
    [{ year: 'nineteen' }, /documents\[1\]\.attributes\.year: attribute is integer; got the string "nineteen"/],
    [{ year: 1.5 }, /attribute is integer/],
    [{ price: 'cheap' }, /attribute is float/],
    [{ tags: 'a' }, /array of strings/],
    [{ ok: 1 }, /true or false/],
    [{ colour: 'red' }, /has no attribute 'colour'/],
  ];
  for (const [attributes, message] of cases) {
    const res = await call('POST', '/v1/namespaces/docs/upsert', {
      documents: [{ id: 1, vector: [0, 0], attributes: { title: 'fine' } }, { id: 2, vector: [0, 1], attributes }],
    });
    assert.equal(res.status, 400, JSON.stringify(attributes));
    assert.equal(res.body.error.code, 'SILT_ERR_DOCUMENT_INVALID');
    assert.match(res.body.error.message, message);
  }
  assert.equal((await call('GET', '/v1/namespaces/docs/documents/1')).status, 404);
  assert.equal((await call('GET', '/v1/namespaces/docs')).body.wal_entries, 0);
});

test('u64 ids beyond 2^53 round-trip exactly as digit strings; unsafe JSON numbers are refused', async () => {
  const { call } = await setup();
  const big = '18446744073709551615';
  const near = '9007199254740993';
  const up = await call('POST', '/v1/namespaces/docs/upsert', {
    documents: [
      { id: big, vector: [1, 1] },
      { id: near, vector: [2, 2] },
      { id: 5, vector: [3, 3] },
      { id: 'user:ü', vector: [4, 4] },
    ],
  });
  assert.equal(up.status, 200);
  assert.equal(up.body.upserted, 4);
  assert.equal((await call('GET', `/v1/namespaces/docs/documents/${big}`)).body.id, big);
  assert.equal((await call('GET', `/v1/namespaces/docs/documents/${near}`)).body.id, near);
  assert.equal((await call('GET', '/v1/namespaces/docs/documents/5')).body.id, 5);
  assert.equal((await call('GET', `/v1/namespaces/docs/documents/${encodeURIComponent('user:ü')}`)).body.id, 'user:ü');
  const q = await call('POST', '/v1/namespaces/docs/query', { vector: [1, 1], top_k: 2 });
  assert.deepEqual(q.body.results.map((r: { id: unknown }) => r.id), [big, near]);

  const unsafe = await call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 9007199254740993, vector: [0, 0] }] });
  assert.equal(unsafe.status, 400);
  assert.equal(unsafe.body.error.code, 'SILT_ERR_DOCUMENT_ID');
  assert.match(unsafe.body.error.message, /send ids above 9007199254740991 as digit strings/);
  const long = await call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 'x'.repeat(65), vector: [0, 0] }] });
  assert.equal(long.status, 400);
  const tooBig = await call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: '18446744073709551616', vector: [0, 0] }] });
  assert.equal(tooBig.status, 400);
});

test('re-upsert replaces, deletes by id and by filter remove, all visible to get and query', async () => {
  const { call } = await setup();
  const docs = Array.from({ length: 20 }, (_, i) => ({
    id: i,
    vector: [i, 0],
    attributes: { title: `doc ${i}`, year: 2000 + i, tags: i % 2 ? ['odd'] : ['even'] },
  }));
  assert.equal((await call('POST', '/v1/namespaces/docs/upsert', { documents: docs })).status, 200);
  await call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 3, vector: [100, 0], attributes: { title: 'moved' } }] });
  const three = await call('GET', '/v1/namespaces/docs/documents/3');
  assert.deepEqual(three.body, { id: 3, vector: [100, 0], attributes: { title: 'moved' } });

  const byId = await call('POST', '/v1/namespaces/docs/delete', { ids: [0, 1, 999] });
  assert.equal(byId.status, 200);
  assert.equal(byId.body.deleted, 2);
  const byFilter = await call('POST', '/v1/namespaces/docs/delete', {
    filter: { and: [{ field: 'tags', op: 'contains', value: 'even' }, { field: 'year', op: 'gte', value: 2010 }] },
  });
  assert.equal(byFilter.body.deleted, 5); // 10, 12, 14, 16, 18
  assert.equal((await call('GET', '/v1/namespaces/docs/documents/12')).status, 404);
  const all = await call('POST', '/v1/namespaces/docs/query', { vector: [0, 0], top_k: 100 });
  const ids = all.body.results.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b);
  assert.deepEqual(ids, [2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19]);
  assert.equal((await call('GET', '/v1/namespaces/docs')).body.documents, 13);

  const badFilter = await call('POST', '/v1/namespaces/docs/delete', { filter: { field: 'year', op: 'gt', value: 'x' } });
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.body.error.code, 'SILT_ERR_FILTER_INVALID');
  const both = await call('POST', '/v1/namespaces/docs/delete', { ids: [1], filter: { field: 'year', op: 'gt', value: 1 } });
  assert.equal(both.status, 400);
});

test('concurrent upserts share WAL entries (group commit) and none is lost', async () => {
  // Puts that take 20 ms, like a real object store, so writes pile up behind the one in flight.
  const memory = new MemoryObjectStore();
  const slow: ObjectStore = {
    get: (key, range) => memory.get(key, range),
    head: (key) => memory.head(key),
    list: (prefix, options) => memory.list(prefix, options),
    delete: (key) => memory.delete(key),
    put: async (key, body, condition) => {
      await new Promise((r) => setTimeout(r, 20));
      return memory.put(key, body, condition);
    },
  };
  const { call } = testApp({ store: slow });
  assert.equal((await call('PUT', '/v1/namespaces/docs', schema)).status, 201);
  const writes = Array.from({ length: 50 }, (_, i) =>
    call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: i, vector: [i, i], attributes: { year: i } }] }));
  const results = await Promise.all(writes);
  assert.ok(results.every((r) => r.status === 200));
  const info = (await call('GET', '/v1/namespaces/docs')).body;
  assert.equal(info.documents, 50);
  assert.ok(info.wal_entries < 50, `expected batching, got ${info.wal_entries} entries for 50 writes`);
});

test('large upserts (tens of MB of JSON) are accepted in one request', async () => {
  const { call } = testApp({ bodyLimit: 256 << 20 });
  await call('PUT', '/v1/namespaces/big', { vector_dim: 768 });
  const documents = Array.from({ length: 3000 }, (_, i) => ({
    id: i,
    vector: Array.from({ length: 768 }, (_, j) => Math.sin(i + j * 0.001) * 0.123456789),
  }));
  const body = JSON.stringify({ documents });
  assert.ok(body.length > 20_000_000, `${body.length} bytes`);
  const res = await call('POST', '/v1/namespaces/big/upsert', body);
  assert.equal(res.status, 200);
  assert.equal(res.body.upserted, 3000);
  assert.equal((await call('GET', '/v1/namespaces/big')).body.documents, 3000);
});
