// turbopuffer's write, POST /v2/namespaces/:ns, through turbopuffer's own client: implicit
// creation with inferred types, rows and columns, patches, deletes, filter-based writes, their
// order within one request, one WAL entry per request, and nothing applied on a 4xx.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { listAll } from '../../src/storage/object-store.ts';
import { walPrefix } from '../../src/storage/layout.ts';
import { testApp } from '../support/app.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer, failure } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

const auth = { authorization: `Bearer ${TPUF_KEY}` };

/** Every live document of `ns` through Silt's own /v1 read, by id. */
async function docs(ns: string): Promise<Map<unknown, { vector: number[] | null; attributes: Record<string, unknown> }>> {
  const res = await server.silt.call('GET', `/v1/namespaces/${ns}/documents`, undefined, auth);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return new Map(res.body.documents.map((d: { id: unknown }) => [d.id, d]));
}

async function walEntries(ns: string): Promise<number> {
  let n = 0;
  for await (const _ of listAll(server.silt.store, walPrefix(ns))) n++;
  return n;
}


test('the first write creates the namespace with the types its values imply', async () => {
  const ns = server.client.namespace('w-create');
  const res = await ns.write({
    upsert_rows: [
      { id: 1, vector: [1, 0, 0], title: 'first', year: 2020, score: 0.5, live: true, tags: ['a', 'b'] },
      { id: 2, vector: [0, 1, 0], title: 'second', year: 2021, score: 1, live: false, tags: [] },
    ],
    distance_metric: 'euclidean_squared',
  });
  assert.equal(res.status, 'OK');
  assert.equal(res.rows_upserted, 2);
  assert.equal(res.rows_affected, 2);
  const schema = await ns.schema();
  assert.deepEqual(Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, v.type])), {
    id: 'uint', vector: '[3]f32', title: 'string', year: 'int', score: 'float', live: 'bool', tags: '[]string',
  });
  assert.equal(schema.vector!.ann && typeof schema.vector!.ann === 'object' ? schema.vector!.ann.distance_metric : null, 'euclidean_squared');
  const stored = await docs('w-create');
  assert.deepEqual(stored.get(1)!.attributes, { title: 'first', year: 2020, score: 0.5, live: true, tags: ['a', 'b'] });
  assert.deepEqual(stored.get(2)!.vector, [0, 1, 0]);
});

test('new attributes may appear later; a type change is a 409 the client does not retry', async () => {
  const ns = server.client.namespace('w-evolve');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'a' }] });
  await ns.write({ upsert_rows: [{ id: 2, vector: [0, 1], title: 'b', pages: 12 }] });
  assert.equal((await ns.schema()).pages!.type, 'int');
  const e = await failure(ns.write({ upsert_rows: [{ id: 3, vector: [1, 1], title: 7 }] }));
  assert.equal(e.status, 409);
  assert.equal(e.headers?.get('x-should-retry'), 'false');
  assert.match(e.message, /attribute 'title' is string, and this write gives it int.*SILT_ERR_TPUF_SCHEMA_CONFLICT/);
  assert.deepEqual([...(await docs('w-evolve')).keys()].sort(), [1, 2]);
});

test('upsert_columns, string ids and base64 vectors (little-endian f32)', async () => {
  const ns = server.client.namespace('w-columns');
  const v = Buffer.alloc(8);
  v.writeFloatLE(0.25, 0);
  v.writeFloatLE(-2, 4);
  const res = await ns.write({
    upsert_columns: { id: ['a', 'b'], vector: [[1, 2], v.toString('base64')], color: ['red', null] },
  });
  assert.equal(res.rows_upserted, 2);
  const stored = await docs('w-columns');
  assert.deepEqual(stored.get('a')!.attributes, { color: 'red' });
  assert.deepEqual(stored.get('b')!.vector, [0.25, -2]);
  assert.deepEqual(stored.get('b')!.attributes, {});
  assert.equal((await ns.schema()).id!.type, 'string');
});

test('patches change only the keys they name, never create rows; null removes an attribute', async () => {
  const ns = server.client.namespace('w-patch');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'one', n: 1 }, { id: 2, vector: [0, 1], title: 'two', n: 2 }] });
  const res = await ns.write({
    patch_rows: [{ id: 1, title: 'uno', extra: 'new' }, { id: 99, title: 'ghost' }],
    patch_columns: { id: [2], n: [null] },
    return_affected_ids: true,
  });
  assert.equal(res.rows_patched, 2);
  assert.deepEqual(res.patched_ids, [1, 2]);
  const stored = await docs('w-patch');
  assert.deepEqual(stored.get(1), { id: 1, vector: [1, 0], attributes: { title: 'uno', n: 1, extra: 'new' } });
  assert.deepEqual(stored.get(2)!.attributes, { title: 'two' });
  assert.equal(stored.has(99), false);
  const e = await failure(ns.write({ patch_rows: [{ id: 1, vector: [0, 0] }] }));
  assert.equal(e.status, 400);
  assert.match(e.message, /patch_rows\[0\]\.vector: a vector cannot be patched/);
});

test('deletes, delete_by_filter and patch_by_filter, in turbopuffer\'s order, in one WAL entry', async () => {
  const ns = server.client.namespace('w-order');
  await ns.write({
    upsert_rows: Array.from({ length: 6 }, (_, i) => ({ id: i, vector: [i, 1], group: i % 2 === 0 ? 'even' : 'odd', n: i })),
  });
  const before = await walEntries('w-order');
  const res = await ns.write({
    // Applied first: removes 0, 2, 4.
    delete_by_filter: ['group', 'Eq', 'even'],
    // Then: marks the odd ones left (1, 3, 5).
    patch_by_filter: { filters: ['group', 'Eq', 'odd'], patch: { marked: true } },
    // Then upserts: 4 comes back, unmarked.
    upsert_rows: [{ id: 4, vector: [4, 1], group: 'even', n: 40 }],
    // Then patches: 4 is there again to patch.
    patch_rows: [{ id: 4, n: 41 }],
    // Last, deletes: 5 goes.
    deletes: [5, 77],
    return_affected_ids: true,
  });
  assert.deepEqual(res.deleted_ids, [0, 2, 4, 5]);
  assert.deepEqual(res.patched_ids, [1, 3, 5, 4]);
  assert.deepEqual(res.upserted_ids, [4]);
  assert.equal(res.rows_affected, 9);
  assert.equal(await walEntries('w-order'), before + 1, 'one request, one WAL entry');
  const stored = await docs('w-order');
  assert.deepEqual([...stored.keys()].sort(), [1, 3, 4]);
  assert.deepEqual(stored.get(1)!.attributes, { group: 'odd', n: 1, marked: true });
  assert.deepEqual(stored.get(4)!.attributes, { group: 'even', n: 41 });
});

test('a bad row anywhere in the request applies nothing and creates nothing', async () => {
  const e = await failure(server.client.namespace('w-bad').write({
    upsert_rows: [{ id: 1, vector: [1, 0], title: 'fine' }, { id: 2, vector: [1, 0, 0], title: 'wrong size' }],
  }));
  assert.equal(e.status, 400);
  assert.match(e.message, /upsert_rows\[1\]\.vector: has 3 dimensions; earlier rows of this write have 2/);
  assert.equal(await server.client.namespace('w-bad').exists(), false);
  const nothing = await failure(server.client.namespace('w-bad').write({ patch_rows: [{ id: 1, title: 'x' }], deletes: [2] }));
  assert.equal(nothing.status, 404, 'patches and deletes create no namespace');
  assert.equal(await server.client.namespace('w-bad').exists(), false);

  const ns = server.client.namespace('w-bad2');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'keep' }] });
  const bad = await failure(ns.write({ upsert_rows: [{ id: 2, vector: [1, 0], title: 'new', fresh: 'attr' }], deletes: [1], delete_by_filter: ['nope', 'Eq', 1] }));
  assert.equal(bad.status, 400);
  assert.match(bad.message, /delete_by_filter\[0\]: unknown attribute 'nope'/);
  assert.deepEqual([...(await docs('w-bad2')).keys()], [1]);
  assert.equal((await ns.schema()).fresh, undefined, 'the attribute of a refused write is not added');
});

test('a namespace without vectors (BM25 only) takes rows without a vector, and refuses them later', async () => {
  const ns = server.client.namespace('w-novec');
  await ns.write({ upsert_rows: [{ id: 1, text: 'hello world' }], schema: { text: { type: 'string', full_text_search: true } } });
  const schema = await ns.schema();
  assert.equal(schema.vector, undefined);
  assert.deepEqual(schema.text!.full_text_search && typeof schema.text!.full_text_search === 'object' ? schema.text!.full_text_search.stemming : null, false);
  const e = await failure(ns.write({ upsert_rows: [{ id: 2, vector: [1, 2], text: 'x' }] }));
  assert.equal(e.status, 409);
  assert.match(e.message, /created without vectors/);
  // Folded into a segment and read back by a fresh node, with its full-text index.
  assert.equal((await server.silt.call('POST', '/v1/namespaces/w-novec/flush', undefined, auth)).status, 200);
  const fresh = testApp({ store: server.silt.store });
  const found = await fresh.call('POST', '/v1/namespaces/w-novec/query', { full_text: { field: 'text', query: 'hello' } });
  assert.deepEqual(found.body.results.map((r: { id: number }) => r.id), [1]);
});

test('refused fields get a clear 400: customer-managed keys, sharding, a copy or branch with other operations', async () => {
  const ns = server.client.namespace('w-refused');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ encryption: { mode: 'customer-managed', key_name: 'k' } }, /encryption: only .*"default.* customer-managed keys are not/],
    [{ sharding: { num_shards: 2 } }, /sharding: Silt does not shard/],
    [{ copy_from_namespace: 'w-create' }, /upsert_rows: copy_from_namespace makes the namespace from its source alone/],
    [{ branch_from_namespace: 'w-create' }, /upsert_rows: branch_from_namespace makes the namespace from its source alone/],
  ];
  for (const [extra, message] of cases) {
    const e = await failure(ns.write({ upsert_rows: [{ id: 1, vector: [1, 0] }], ...extra }));
    assert.equal(e.status, 400);
    assert.match(e.message, message);
    assert.match(e.message, /SILT_ERR_TPUF_UNSUPPORTED/);
  }
  // The default encryption and disable_backpressure are accepted.
  const ok = await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0] }], encryption: { mode: 'default' }, disable_backpressure: true });
  assert.equal(ok.rows_upserted, 1);
});

test('uuid ids (schema id: "uuid") are stored in one form, so two spellings name one row', async () => {
  const ns = server.client.namespace('w-uuid');
  await ns.write({ upsert_rows: [{ id: '0F8FAD5B-D9CB-469F-A165-70867728950E', vector: [1, 0], n: 1 }], schema: { id: 'uuid' } });
  await ns.write({ upsert_rows: [{ id: '0f8fad5bd9cb469fa16570867728950e', vector: [1, 0], n: 2 }] });
  const stored = await docs('w-uuid');
  assert.deepEqual([...stored.keys()], ['0f8fad5b-d9cb-469f-a165-70867728950e']);
  assert.deepEqual(stored.get('0f8fad5b-d9cb-469f-a165-70867728950e')!.attributes, { n: 2 });
  assert.equal((await ns.schema()).id!.type, 'uuid');
  const e = await failure(ns.write({ upsert_rows: [{ id: 'not-a-uuid', vector: [1, 0] }] }));
  assert.equal(e.status, 400);
});
