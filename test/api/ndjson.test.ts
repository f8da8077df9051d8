// Streaming bulk upsert: POST /v1/namespaces/:ns/upsert with Content-Type application/x-ndjson,
// one document per line, written chunk by chunk; a bad line names its number and the answer says
// how many documents before it were written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { queryNode, testApp, type TestApp } from '../support/app.ts';

const SCHEMA = { vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string' } } };
const doc = (id: number) => JSON.stringify({ id, vector: [id, 1], attributes: { title: `doc ${id}` } });
const ndjson = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => doc(from + i)).join('\n') + '\n';

async function post(t: TestApp, ns: string, payload: string, type = 'application/x-ndjson') {
  const res = await t.app.inject({ method: 'POST', url: `/v1/namespaces/${ns}/upsert`, headers: { 'content-type': type }, payload });
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) };
}

async function setup(): Promise<TestApp> {
  const t = testApp();
  assert.equal((await t.call('PUT', '/v1/namespaces/nd', SCHEMA)).status, 201);
  return t;
}

test('an NDJSON body of several chunks is upserted whole; the answer counts the documents and chunks', async () => {
  const t = await setup();
  const res = await post(t, 'nd', ndjson(0, 2500), 'application/x-ndjson; charset=utf-8');
  assert.equal(res.status, 200);
  assert.equal(res.body.upserted, 2500);
  assert.equal(res.body.chunks, 3, '1,000 documents a chunk');
  assert.equal(res.headers['x-silt-upserted'], '2500');
  assert.equal((await t.call('GET', '/v1/namespaces/nd')).body.documents, 2500);
  const got = await t.call('GET', '/v1/namespaces/nd/documents/2499');
  assert.equal(got.body.attributes.title, 'doc 2499');
});

test('blank lines, CRLF and a last line without a newline are fine', async () => {
  const t = await setup();
  const res = await post(t, 'nd', `${doc(1)}\r\n\n${doc(2)}\r\n   \n${doc(3)}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.upserted, 3);
});

test('a bad line gets a 400 naming its line; the chunks before it stay written and the count says so', async () => {
  const t = await setup();
  // Lines 1..1500 are good (one chunk of 1,000 written, 500 pending), line 1501 is not JSON.
  const res = await post(t, 'nd', ndjson(0, 1500) + '{"id": 1500, "vector": [1,\n' + ndjson(1501, 1600));
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'SILT_ERR_REQUEST_INVALID_JSON');
  assert.match(res.body.error.message, /line 1501/);
  assert.equal(res.body.upserted, 1000);
  assert.equal(res.headers['x-silt-upserted'], '1000');
  assert.equal((await t.call('GET', '/v1/namespaces/nd')).body.documents, 1000);

  // A document the schema refuses is named by its line, with parseDocument's message.
  const bad = await post(t, 'nd', `${doc(1)}\n${JSON.stringify({ id: 2, vector: [1, 2, 3] })}\n`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'SILT_ERR_DOCUMENT_VECTOR_DIMENSION');
  assert.match(bad.body.error.message, /line 2/);
  assert.equal(bad.body.upserted, 0);
});

test('an empty NDJSON body is refused; an unknown namespace is 404', async () => {
  const t = await setup();
  const empty = await post(t, 'nd', '\n\n');
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error.code, 'SILT_ERR_REQUEST_INVALID');
  assert.equal((await post(t, 'nope', ndjson(0, 1))).status, 404);
});

test('NDJSON is accepted by the upsert route only; others still answer 415', async () => {
  const t = await setup();
  const res = await t.app.inject({
    method: 'POST', url: '/v1/namespaces/nd/query', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"top_k": 1}\n',
  });
  assert.equal(res.statusCode, 415);
  assert.equal(JSON.parse(res.body).error.code, 'SILT_ERR_REQUEST_CONTENT_TYPE');
  const gz = await t.app.inject({
    method: 'POST', url: '/v1/namespaces/nd/upsert', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'br' }, payload: 'x',
  });
  assert.equal(gz.statusCode, 415);
});

test('an NDJSON body is not capped by the JSON body limit; one line is', async () => {
  const t = testApp({ bodyLimit: 10_000 });
  assert.equal((await t.call('PUT', '/v1/namespaces/nd', SCHEMA)).status, 201);
  const body = ndjson(0, 2000);
  assert.ok(body.length > 10_000);
  const res = await post(t, 'nd', body);
  assert.equal(res.status, 200);
  assert.equal(res.body.upserted, 2000);
  const long = await post(t, 'nd', `${doc(1)}\n${JSON.stringify({ id: 2, attributes: { title: 'x'.repeat(20_000) } })}\n`);
  assert.equal(long.status, 400);
  assert.match(long.body.error.message, /line 2.*longer than 10000 bytes/);
  assert.equal(long.body.upserted, 0);
});

test('a write refused for backpressure is a 429 with Retry-After and the count written before it', async () => {
  const t = testApp({ indexing: { unindexed_limit_bytes: 50_000 } });
  assert.equal((await t.call('PUT', '/v1/namespaces/nd', SCHEMA)).status, 201);
  const res = await post(t, 'nd', ndjson(0, 5000));
  assert.equal(res.status, 429);
  assert.equal(res.body.error.code, 'SILT_ERR_BACKPRESSURE');
  assert.equal(res.headers['retry-after'], '5');
  assert.ok(res.body.upserted >= 1000 && res.body.upserted < 5000, `written before the refusal: ${res.body.upserted}`);
  assert.equal(res.body.upserted % 1000, 0, 'whole chunks');
  assert.equal((await t.call('GET', '/v1/namespaces/nd')).body.documents, res.body.upserted);
});

test('a query node relays an NDJSON upsert to the owner with its content type', async () => {
  const owner = await setup();
  const url = await owner.app.listen({ host: '127.0.0.1', port: 0 });
  const qn = queryNode(owner, url);
  try {
    const res = await qn.inject({ method: 'POST', url: '/v1/namespaces/nd/upsert', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(0, 1200) });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(JSON.parse(res.body).upserted, 1200);
    assert.equal(res.headers['x-silt-node'], 'test');
    assert.equal((await owner.call('GET', '/v1/namespaces/nd')).body.documents, 1200);
  } finally {
    await qn.close();
    await owner.app.close();
  }
});

test('the server answers /health while a large NDJSON body is still streaming in', async () => {
  const t = await setup();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  try {
    const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/namespaces/nd/upsert', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      void (async () => {
        req.write(ndjson(0, 3000));
        // The import is under way (its first chunks written) and the request still open.
        for (let i = 0; i < 200 && (await t.call('GET', '/v1/namespaces/nd')).body.documents < 1000; i++) await new Promise((r) => setTimeout(r, 20));
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        assert.equal(health.status, 200);
        assert.equal(((await health.json()) as { status: string }).status, 'ok');
        req.end(ndjson(3000, 5000));
      })().catch(reject);
    });
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.body.upserted, 5000);
  } finally {
    await t.app.close();
  }
});

test('a stream that outlasts indexing.idle_close_secs keeps its namespace: every chunk counts as use, and a closed one is reopened', async () => {
  let clock = 1_000_000;
  const t = testApp({ now: () => clock });
  assert.equal((await t.call('PUT', '/v1/namespaces/nd', SCHEMA)).status, 201);
  const { PassThrough } = await import('node:stream');
  const body = new PassThrough();
  const answer = t.app.inject({ method: 'POST', url: '/v1/namespaces/nd/upsert', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
  body.write(ndjson(0, 1500));
  // The first chunk is durable; the stream then stalls past the idle period and the catalog closes idle namespaces.
  for (let i = 0; i < 100 && (await t.call('GET', '/v1/namespaces/nd')).body.documents < 1000; i++) await new Promise((r) => setTimeout(r, 10));
  clock += 10 * 60 * 1000;
  await t.catalog.closeIdle();
  body.end(ndjson(1500, 3000));
  const res = await answer;
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(JSON.parse(res.body).upserted, 3000);
  assert.equal((await t.call('GET', '/v1/namespaces/nd')).body.documents, 3000);
});
