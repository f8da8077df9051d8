// GET and POST /v1/namespaces/:ns/schema through turbopuffer's client: the flat schema with id
// and vector, attributes added and flags changed, type changes refused; and attributes added
// after rows were folded into segments, across a restart and a merge.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { APIError } from '@turbopuffer/turbopuffer';
import { testApp } from '../support/app.ts';
import { TPUF_AUTH, TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

const auth = { authorization: `Bearer ${TPUF_KEY}` };

test('the schema is flat, with id and vector, and the types and full-text options as declared', async () => {
  const ns = server.client.namespace('s-flat');
  await ns.write({
    upsert_rows: [{ id: 'a', vector: [1, 0, 0, 0], title: 'Hello', at: '2024-03-01T12:00:00+02:00', owner: '0F8FAD5B-D9CB-469F-A165-70867728950E', n: 3 }],
    distance_metric: 'cosine_distance',
    schema: {
      title: { type: 'string', full_text_search: { stemming: true, k1: 1.5 } },
      at: 'datetime',
      owner: { type: 'uuid' },
      n: 'uint',
    },
  });
  const schema = await ns.schema();
  assert.deepEqual(schema.id, { type: 'string', filterable: true });
  assert.deepEqual(schema.vector, { type: '[4]f32', ann: { distance_metric: 'cosine_distance' } });
  assert.equal(schema.title!.type, 'string');
  assert.equal(schema.title!.filterable, false, 'full-text attributes are not filterable unless asked');
  assert.deepEqual(schema.title!.full_text_search, {
    language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.5, b: 0.75, ascii_folding: false, tokenizer: 'word_v4',
  });
  assert.equal(schema.at!.type, 'datetime');
  assert.equal(schema.owner!.type, 'uuid');
  assert.equal(schema.n!.type, 'uint');
  // Stored in one canonical form, so equality and order hold.
  const doc = await server.silt.call('GET', '/v1/namespaces/s-flat/documents/a', undefined, auth);
  assert.deepEqual(doc.body.attributes, { title: 'Hello', at: '2024-03-01T10:00:00.000Z', owner: '0f8fad5b-d9cb-469f-a165-70867728950e', n: 3 });
  const neg = await ns.write({ upsert_rows: [{ id: 'b', vector: [1, 0, 0, 0], n: -1 }] }).catch((e: APIError) => e);
  assert.ok(neg instanceof APIError && neg.status === 400 && /attribute is uint; got -1/.test(neg.message));
});

test('updateSchema adds attributes and changes filterable; other changes are a 409 not retried', async () => {
  const ns = server.client.namespace('s-update');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'x', body: 'long text' }] });
  const updated = await ns.updateSchema({ schema: { tags: '[]string', title: { type: 'string', filterable: false }, body: { type: 'string' } } });
  assert.equal(updated.tags!.type, '[]string');
  assert.equal(updated.title!.filterable, false);
  assert.deepEqual(await ns.schema(), updated);
  // The new attributes take values at once; a full-text one is searchable in the unindexed tail.
  await ns.updateSchema({ schema: { summary: { type: 'string', full_text_search: true } } });
  await ns.write({ upsert_rows: [{ id: 2, vector: [0, 1], tags: ['red'], summary: 'a quick brown fox' }] });
  const found = await server.silt.call('POST', '/v1/namespaces/s-update/query', { full_text: { field: 'summary', query: 'fox' } }, auth);
  assert.deepEqual(found.body.results.map((r: { id: number }) => r.id), [2]);
  for (const [schema, message] of [
    [{ title: 'int' }, /attribute 'title' is string, and this write gives it int/],
    [{ body: { type: 'string', full_text_search: true } }, /full_text_search of attribute 'body' cannot change/],
    [{ vector: '[3]f32' }, /its vectors are \[2\]f32, and this write has \[3\]f32/],
  ] as const) {
    const e = await ns.updateSchema({ schema: schema as Record<string, string> }).catch((err: APIError) => err);
    assert.ok(e instanceof APIError, 'refused');
    assert.equal(e.status, 409);
    assert.equal(e.headers?.get('x-should-retry'), 'false');
    assert.match(e.message, message);
  }
  const bad = await ns.updateSchema({ schema: { scores: '[]float' } }).catch((err: APIError) => err);
  assert.ok(bad instanceof APIError && bad.status === 400 && /type \[\]float is not supported/.test(bad.message));
  assert.equal((await ns.schema()).scores, undefined);
});

test('attributes added after rows were folded into segments: old rows read back, across a restart and a merge', async () => {
  const silt = testApp({ auth: TPUF_AUTH });
  const call = (method: string, url: string, body?: unknown) => silt.call(method, url, body, auth);
  await call('POST', '/v2/namespaces/s-seg', { upsert_rows: [{ id: 1, vector: [1, 0], title: 'old' }] });
  assert.equal((await call('POST', '/v1/namespaces/s-seg/flush')).status, 200);
  const added = await call('POST', '/v2/namespaces/s-seg', {
    upsert_rows: [{ id: 2, vector: [0, 1], title: 'new', text: 'full text here', n: 2 }],
    schema: { text: { type: 'string', full_text_search: true } },
  });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.equal((await call('POST', '/v1/namespaces/s-seg/flush')).status, 200);
  // A new node over the same store opens both segments under the grown schema.
  const reopened = testApp({ store: silt.store, auth: TPUF_AUTH });
  const get = async (id: number) => (await reopened.call('GET', `/v1/namespaces/s-seg/documents/${id}`, undefined, auth)).body;
  assert.deepEqual((await get(1)).attributes, { title: 'old' });
  assert.deepEqual((await get(2)).attributes, { title: 'new', text: 'full text here', n: 2 });
  // The first node merges a segment it opened before the attributes existed with one after.
  await reopened.app.close();
  const compacted = await call('POST', '/v1/namespaces/s-seg/compact');
  assert.equal(compacted.status, 200, JSON.stringify(compacted.body));
  assert.equal((await call('GET', '/v1/namespaces/s-seg')).body.segments.length, 1);
  assert.deepEqual((await call('GET', '/v1/namespaces/s-seg/documents/2')).body.attributes, { title: 'new', text: 'full text here', n: 2 });
  const found = await call('POST', '/v1/namespaces/s-seg/query', { full_text: { field: 'text', query: 'text' } });
  assert.deepEqual(found.body.results.map((r: { id: number }) => r.id), [2]);
});

test('a schema change that loses the manifest to another writer is a 409, and the next one reopens the namespace', async () => {
  const a = testApp({ auth: TPUF_AUTH });
  const b = testApp({ store: a.store, auth: TPUF_AUTH });
  const write = (t: typeof a, body: unknown) => t.call('POST', '/v2/namespaces/s-fenced', body, auth);
  const grow = (t: typeof a, schema: unknown) => t.call('POST', '/v1/namespaces/s-fenced/schema', schema, auth);
  assert.equal((await write(a, { upsert_rows: [{ id: 1, vector: [1, 0] }] })).status, 200);
  assert.equal((await write(b, { upsert_rows: [{ id: 2, vector: [0, 1] }] })).status, 200);
  assert.equal((await grow(a, { x: 'string' })).status, 200);
  const lost = await grow(b, { y: 'int' });
  assert.equal(lost.status, 409);
  assert.match(lost.body.error, /SILT_ERR_NAMESPACE_WRITE_CONFLICT/);
  const again = await grow(b, { y: 'int' });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(Object.keys(again.body).sort(), ['id', 'vector', 'x', 'y']);
});
