// Input a hostile or careless client can send: everything is either refused with a 400 naming
// the field, or stored so that it comes back identical after a flush and a restart (WAL replay)
// and the namespace keeps flushing. Nothing is accepted and then fails in the background.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { testApp, type TestApp } from '../support/app.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';

const schema = {
  vector_dim: 2,
  vector_metric: 'l2',
  attributes: {
    title: { type: 'string', full_text: true },
    tags: { type: 'array<string>', full_text: true },
    n: { type: 'integer' },
    x: { type: 'float' },
    ns: { type: 'array<integer>' },
    ok: { type: 'boolean' },
  },
};

async function setup(store = new MemoryObjectStore()): Promise<TestApp> {
  const t = testApp({ store });
  assert.equal((await t.call('PUT', '/v1/namespaces/h', schema)).status, 201);
  return t;
}

function expect400(res: { status: number; body: any }, code: string, message: RegExp): void {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.match(res.body.error.message, message);
}

test('lone UTF-16 surrogates are refused with a 400 naming the field, and nothing is written', async () => {
  const t = await setup();
  const upsert = (documents: unknown[]) => t.call('POST', '/v1/namespaces/h/upsert', { documents });
  // The repro: both ids would become "s\uFFFD" in UTF-8 and collide after a restart.
  expect400(await upsert([{ id: 's\ud800', attributes: { title: 'alpha' } }, { id: 's\udc00', attributes: { title: 'beta' } }]),
    'SILT_ERR_DOCUMENT_ID', /^documents\[0\]\.id: .*not well-formed Unicode/);
  expect400(await upsert([{ id: 1 }, { id: 2, attributes: { title: 'a\udfffb' } }]),
    'SILT_ERR_DOCUMENT_INVALID', /^documents\[1\]\.attributes\.title: .*not well-formed Unicode/);
  expect400(await upsert([{ id: 1, attributes: { tags: ['fine', '\ud83d'] } }]),
    'SILT_ERR_DOCUMENT_INVALID', /^documents\[0\]\.attributes\.tags\[1\]: .*not well-formed Unicode/);
  assert.equal((await t.call('GET', '/v1/namespaces/h')).body.wal_entries, 0);

  expect400(await t.call('POST', '/v1/namespaces/h/delete', { ids: [1, 'x\ud800'] }),
    'SILT_ERR_DOCUMENT_ID', /^ids\[1\]: .*not well-formed Unicode/);
  expect400(await t.call('POST', '/v1/namespaces/h/delete', { filter: { field: 'title', op: 'eq', value: '\udc00' } }),
    'SILT_ERR_FILTER_INVALID', /filter\.value: .*not well-formed Unicode/);
  expect400(await t.call('POST', '/v1/namespaces/h/delete', { filter: { field: 'id', op: 'in', value: ['\udc00'] } }),
    'SILT_ERR_FILTER_INVALID', /filter\.value\[0\]: .*not well-formed Unicode/);
  expect400(await t.call('POST', '/v1/namespaces/h/query', { full_text: { field: 'title', query: 'alpha \ud800' } }),
    'SILT_ERR_QUERY_INVALID', /^full_text\.query: .*not well-formed Unicode/);
  expect400(await t.call('POST', '/v1/namespaces/h/query', { vector: [0, 0], filter: { field: 'title', op: 'glob', value: '*\ud800' } }),
    'SILT_ERR_FILTER_INVALID', /filter\.value: .*not well-formed Unicode/);
  expect400(await t.call('POST', '/v1/namespaces/h/query', { vector: [0, 0], filter: { field: 'tags', op: 'containsany', value: ['\ud800'] } }),
    'SILT_ERR_FILTER_INVALID', /filter\.value\[0\]: .*not well-formed Unicode/);
  expect400(await t.call('PUT', '/v1/namespaces/other', { vector_dim: 2, attributes: { 't\ud800': 'string' } }),
    'SILT_ERR_SCHEMA_INVALID', /attribute names use/);
  assert.equal((await t.call('GET', '/v1/namespaces/h')).body.wal_entries, 0);
});

test('vector components beyond float32 are refused, for documents and for queries', async () => {
  const t = await setup();
  // 3.5e38 is a finite double but Infinity as float32, which is what is stored.
  expect400(await t.call('POST', '/v1/namespaces/h/upsert', { documents: [{ id: 1, vector: [0, 0] }, { id: 2, vector: [3.5e38, 0] }] }),
    'SILT_ERR_DOCUMENT_INVALID', /^documents\[1\]\.vector\[0\]: .*float32/);
  expect400(await t.call('POST', '/v1/namespaces/h/upsert', { documents: [{ id: 1, vector: [0, -1e39] }] }),
    'SILT_ERR_DOCUMENT_INVALID', /^documents\[0\]\.vector\[1\]: /);
  // Each component fits, but the length (stored beside the vector as float32) does not.
  expect400(await t.call('POST', '/v1/namespaces/h/upsert', { documents: [{ id: 1, vector: [3e38, 3e38] }] }),
    'SILT_ERR_DOCUMENT_INVALID', /^documents\[0\]\.vector: .*length/);
  assert.equal((await t.call('GET', '/v1/namespaces/h')).body.wal_entries, 0);
  expect400(await t.call('POST', '/v1/namespaces/h/query', { vector: [3.5e38, 0] }),
    'SILT_ERR_DOCUMENT_INVALID', /^vector\[0\]: .*float32/);
  const flushed = await t.call('POST', '/v1/namespaces/h/flush');
  assert.equal(flushed.status, 200);
});

// Accepted but unusual values: each must come back exactly as the client will later read it.
// NEG_ZERO is sent as the JSON number -0 (JSON.stringify would write 0).
const NEG_ZERO = 'NEG_ZERO';
const ODD_DOCS = [
  { id: 's\u{1F600}\u00e9\u0000/\\"', vector: [3.4028234663852886e38, NEG_ZERO], attributes: { title: 'emoji \u{1F600} and \u00e9', x: NEG_ZERO, n: NEG_ZERO } },
  { id: 'x'.repeat(64), vector: [1.401298464324817e-45, -1.1754943508222875e-38], attributes: { x: 1e308, n: Number.MAX_SAFE_INTEGER } },
  { id: '18446744073709551615', vector: [NEG_ZERO, 0], attributes: { x: 5e-324, n: Number.MIN_SAFE_INTEGER, ns: [NEG_ZERO, 0, 2 ** 53 - 1], ok: false } },
  { id: 0, attributes: { title: '', tags: [], ns: [] } },
  { id: 7, attributes: { tags: ['', '\u{10FFFF}', '\u{10FFFF}'.repeat(40_000)], title: 'word '.repeat(20_000), ok: true } },
  { id: 'constructor', vector: [0.1, 0.2] },
];

/** What a client reads back: the JSON of GET …/documents/:id (so -0 reads as 0). */
async function readAll(t: TestApp): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const d of ODD_DOCS) {
    const res = await t.call('GET', `/v1/namespaces/h/documents/${encodeURIComponent(String(d.id))}`);
    assert.equal(res.status, 200, `${JSON.stringify(d.id).slice(0, 80)}: ${JSON.stringify(res.body)}`);
    out.push(res.body);
  }
  return out;
}

const LONG_TITLE = ODD_DOCS[4]!.attributes!.title!;
const ODD_FILTERS = [
  { field: 'title', op: 'eq', value: LONG_TITLE },
  { field: 'title', op: 'gt', value: LONG_TITLE.slice(0, 300) },
  { field: 'title', op: 'lt', value: `${LONG_TITLE}x` },
  { field: 'title', op: 'gte', value: 'word word' },
  { field: 'tags', op: 'contains', value: '\u{10FFFF}'.repeat(40_000) },
  { field: 'tags', op: 'contains', value: '\u{10FFFF}'.repeat(39_999) },
  { field: 'x', op: 'eq', value: 0 },
];

async function filteredIds(t: TestApp): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const filter of ODD_FILTERS) {
    const res = await t.call('POST', '/v1/namespaces/h/query', { full_text: { field: 'title', query: 'word emoji' }, filter, top_k: 10 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(res.body.results.map((r: { id: unknown }) => r.id).sort());
  }
  return out;
}

test('accepted but odd documents survive a flush and a restart identical, and the namespace still flushes', async () => {
  const store = new MemoryObjectStore();
  const t = await setup(store);
  const body = JSON.stringify({ documents: ODD_DOCS }).replaceAll(`"${NEG_ZERO}"`, '-0');
  const up = await t.call('POST', '/v1/namespaces/h/upsert', body);
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const before = await readAll(t);
  const filteredBefore = await filteredIds(t);
  const emoji = ODD_DOCS[0]!.id;
  assert.deepEqual(filteredBefore, [[7], [7], [7, emoji], [7], [7], [], [emoji]]);
  assert.deepEqual(before.map((d: any) => d.id), [ODD_DOCS[0]!.id, ODD_DOCS[1]!.id, ODD_DOCS[2]!.id, 0, 7, 'constructor']);
  assert.deepEqual((before[0] as any).attributes, { title: 'emoji \u{1F600} and \u00e9', x: 0, n: 0 });

  // Restart before any flush: everything comes back from WAL replay.
  const replayed = testApp({ store });
  assert.deepEqual(await readAll(replayed), before);
  const flushed = await replayed.call('POST', '/v1/namespaces/h/flush');
  assert.equal(flushed.status, 200, JSON.stringify(flushed.body));
  assert.equal(flushed.body.unindexed_documents, 0);
  assert.deepEqual(await readAll(replayed), before);

  // From segments after another restart, and a later write still flushes.
  const restarted = testApp({ store });
  assert.deepEqual(await readAll(restarted), before);
  assert.deepEqual(await filteredIds(restarted), filteredBefore);
  // Column statistics live in every manifest version: a 100 kB value must not be copied there.
  for (const o of (await store.list('h/manifest/')).objects) assert.ok(o.size < 16_384, `${o.key} is ${o.size} bytes`);
  assert.equal((await restarted.call('POST', '/v1/namespaces/h/upsert', { documents: [{ id: 99, vector: [1, 1] }] })).status, 200);
  const again = await restarted.call('POST', '/v1/namespaces/h/flush');
  assert.equal(again.status, 200);
  assert.equal(again.body.unindexed_documents, 0);
  assert.equal(again.body.documents, ODD_DOCS.length + 1);
  const q = await restarted.call('POST', '/v1/namespaces/h/query', { vector: [0, 0], top_k: 10 });
  assert.ok(q.body.results.every((r: { score: unknown }) => typeof r.score === 'number'), JSON.stringify(q.body.results.map((r: any) => r.score)));
  const text = await restarted.call('POST', '/v1/namespaces/h/query', { full_text: { field: 'title', query: 'emoji' } });
  assert.deepEqual(text.body.results.map((r: { id: unknown }) => r.id), [ODD_DOCS[0]!.id]);
});

test('a namespace name that local storage once reserved (x.silt-tmp) works end to end', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'silt-hostile-'));
  try {
    const store = new LocalFsObjectStore(root);
    const t = testApp({ store });
    for (const name of ['x.silt-tmp', 'y.', 'a..b', '-', '_', 'z'.repeat(100)]) {
      const created = await t.call('PUT', `/v1/namespaces/${name}`, { vector_dim: 2 });
      assert.equal(created.status, 201, `${name}: ${JSON.stringify(created.body)}`);
      assert.equal((await t.call('POST', `/v1/namespaces/${name}/upsert`, { documents: [{ id: 1, vector: [1, 2] }] })).status, 200);
      assert.equal((await t.call('POST', `/v1/namespaces/${name}/flush`)).status, 200);
    }
    const listed = ((await testApp({ store }).call('GET', '/v1/namespaces')).body.namespaces as Array<{ id: string }>).map((n) => n.id);
    assert.ok(listed.includes('x.silt-tmp') && listed.includes('a..b'), JSON.stringify(listed));
    const got = await testApp({ store }).call('GET', '/v1/namespaces/x.silt-tmp/documents/1');
    assert.deepEqual(got.body, { id: 1, vector: [1, 2], attributes: {} });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

const PROTO_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

test('attribute names that are Object.prototype members are refused when the schema lacks them', async () => {
  const t = await setup();
  for (const name of PROTO_NAMES) {
    const body = `{"documents": [{"id": 1, "attributes": {"title": "a", "${name}": "x"}}]}`;
    expect400(await t.call('POST', '/v1/namespaces/h/upsert', body),
      'SILT_ERR_DOCUMENT_INVALID', new RegExp(`documents\\[0\\]\\.attributes\\.${name}: namespace 'h' has no attribute '${name}'`));
    expect400(await t.call('POST', '/v1/namespaces/h/query', { vector: [0, 0], include_attributes: [name] }),
      'SILT_ERR_QUERY_INVALID', /has no attribute/);
    expect400(await t.call('POST', '/v1/namespaces/h/query', { full_text: { field: name, query: 'a' } }),
      'SILT_ERR_QUERY_INVALID', /is not a full-text attribute/);
  }
  assert.equal((await t.call('GET', '/v1/namespaces/h')).body.wal_entries, 0);
});

test('attribute names that are Object.prototype members are stored when the schema has them', async () => {
  const store = new MemoryObjectStore();
  const t = testApp({ store });
  // Written by hand: JSON.stringify would not emit "__proto__" from an object literal.
  const schemaJson = `{"vector_dim": 2, "attributes": {"__proto__": {"type": "string", "full_text": true},
    "constructor": "integer", "toString": "string", "valueOf": "array<string>", "hasOwnProperty": "boolean"}}`;
  const created = await t.call('PUT', '/v1/namespaces/p', schemaJson);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(Object.keys(created.body.schema.attributes).sort(), [...PROTO_NAMES].sort());
  const docs = `{"documents": [
    {"id": 1, "vector": [1, 0], "attributes": {"__proto__": "hello world", "constructor": 7, "toString": "a", "valueOf": ["v"], "hasOwnProperty": true}},
    {"id": 2, "vector": [0, 1], "attributes": {"toString": "b"}}]}`;
  assert.equal((await t.call('POST', '/v1/namespaces/p/upsert', docs)).status, 200);
  const full: unknown = JSON.parse('{"__proto__": "hello world", "constructor": 7, "toString": "a", "valueOf": ["v"], "hasOwnProperty": true}');
  const check = async (app: TestApp, when: string) => {
    const one = await app.call('GET', '/v1/namespaces/p/documents/1');
    assert.equal(one.status, 200, when);
    assert.deepEqual(one.body.attributes, full, when);
    assert.deepEqual(Object.keys(one.body.attributes).sort(), [...PROTO_NAMES].sort(), when);
    assert.deepEqual((await app.call('GET', '/v1/namespaces/p/documents/2')).body.attributes, { toString: 'b' }, when);
    const schemaKeys = Object.keys((await app.call('GET', '/v1/namespaces/p')).body.schema.attributes);
    assert.deepEqual(schemaKeys.sort(), [...PROTO_NAMES].sort(), when);
    const byConstructor = await app.call('POST', '/v1/namespaces/p/query', { vector: [0, 0], filter: { field: 'constructor', op: 'eq', value: 7 } });
    assert.deepEqual(byConstructor.body.results.map((r: { id: number }) => r.id), [1], when);
    const missing = await app.call('POST', '/v1/namespaces/p/query', { vector: [0, 0], filter: { field: 'constructor', op: 'eq', value: null } });
    assert.deepEqual(missing.body.results.map((r: { id: number }) => r.id), [2], when);
    const proto = await app.call('POST', '/v1/namespaces/p/query', { vector: [0, 0], filter: { field: '__proto__', op: 'eq', value: 'hello world' } });
    assert.deepEqual(proto.body.results.map((r: { id: number }) => r.id), [1], when);
    const text = await app.call('POST', '/v1/namespaces/p/query', { full_text: { field: '__proto__', query: 'hello' }, include_attributes: ['__proto__', 'toString'] });
    assert.deepEqual(text.body.results.map((r: { id: number }) => r.id), [1], when);
    assert.deepEqual(Object.keys(text.body.results[0].attributes).sort(), ['__proto__', 'toString'], when);
    const fields = await app.call('POST', '/v1/namespaces/p/query', { full_text: { fields: ['__proto__'], query: 'hello' } });
    assert.deepEqual(fields.body.results?.map((r: { id: number }) => r.id), [1], `${when}: ${JSON.stringify(fields.body)}`);
  };
  await check(t, 'in the tail');
  await check(testApp({ store }), 'after WAL replay');
  const flushed = await t.call('POST', '/v1/namespaces/p/flush');
  assert.equal(flushed.status, 200, JSON.stringify(flushed.body));
  await check(t, 'in a segment');
  await check(testApp({ store }), 'after a restart');
});
