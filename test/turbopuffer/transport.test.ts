// The transport turbopuffer's client relies on: gzip request bodies, gzip responses, its error
// body, and compressed bodies relayed by a query node to the owner.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { queryNode } from '../support/app.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

/** One raw HTTP exchange (fetch would inflate the response and hide its encoding). */
function raw(base: string, method: string, path: string, body: Buffer | null, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { authorization: `Bearer ${TPUF_KEY}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

const json = { 'content-type': 'application/json' };
const docs = Array.from({ length: 50 }, (_, i) => ({ id: i, vector: [i, 1], attributes: { title: `document number ${i} `.repeat(4) } }));

test('a gzip request body is inflated and applied', async () => {
  const made = await raw(server.baseURL, 'PUT', '/v1/namespaces/gz', gzipSync(JSON.stringify({ vector_dim: 2, attributes: { title: { type: 'string' } } })), { ...json, 'content-encoding': 'gzip' });
  assert.equal(made.status, 201, made.body.toString());
  const up = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/upsert', gzipSync(JSON.stringify({ documents: docs })), { ...json, 'content-encoding': 'gzip' });
  assert.equal(up.status, 200, up.body.toString());
  const got = await raw(server.baseURL, 'GET', '/v1/namespaces/gz/documents/7', null, {});
  assert.equal(JSON.parse(got.body.toString()).attributes.title, docs[7]!.attributes.title);
});

test('a response of 1 KiB or more is gzip for a client that accepts it, plain otherwise', async () => {
  const body = Buffer.from(JSON.stringify({ vector: [1, 1], top_k: 50, include_attributes: true }));
  const zipped = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/query', body, { ...json, 'accept-encoding': 'gzip' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(gunzipSync(zipped.body).toString()).results.length, 50);
  const plain = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/query', body, json);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(JSON.parse(plain.body.toString()).results.length, 50);
});

test('a body that is not the gzip it claims gets 400, an unknown encoding 415', async () => {
  const bad = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/upsert', Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body.toString()).error.code, 'SILT_ERR_REQUEST_BODY_ENCODING');
  const br = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/upsert', Buffer.from('{}'), { ...json, 'content-encoding': 'br' });
  assert.equal(br.status, 415);
  assert.equal(JSON.parse(br.body.toString()).error.code, 'SILT_ERR_REQUEST_CONTENT_TYPE');
});

test('turbopuffer paths answer errors in turbopuffer\'s shape; Silt\'s own keep the envelope', async () => {
  const missing = await raw(server.baseURL, 'GET', '/v2/namespaces/gz/no-such-route', null, {});
  assert.equal(missing.status, 404);
  const body = JSON.parse(missing.body.toString());
  assert.equal(body.status, 'error');
  assert.match(body.error, /SILT_ERR_ROUTE_NOT_FOUND/);
  const denied = await raw(server.baseURL, 'GET', '/v2/namespaces/gz/no-such-route', null, { authorization: 'Bearer wrong' });
  assert.equal(denied.status, 401);
  assert.equal(JSON.parse(denied.body.toString()).status, 'error');
  const own = await raw(server.baseURL, 'GET', '/v1/namespaces/none-here', null, {});
  assert.equal(JSON.parse(own.body.toString()).error.code, 'SILT_ERR_NAMESPACE_NOT_FOUND');
});

test('a query node relays a gzip body to the owner as it arrived', async () => {
  const front: FastifyInstance = queryNode(server.silt, server.baseURL);
  const frontUrl = await front.listen({ host: '127.0.0.1', port: 0 });
  try {
    const more = [{ id: 1000, vector: [3, 4], attributes: { title: 'relayed' } }];
    const up = await raw(frontUrl, 'POST', '/v1/namespaces/gz/upsert', gzipSync(JSON.stringify({ documents: more })), { ...json, 'content-encoding': 'gzip' });
    assert.equal(up.status, 200, up.body.toString());
    assert.equal(up.headers['x-silt-via'], 'query-1');
    const q = await raw(frontUrl, 'POST', '/v1/namespaces/gz/query', gzipSync(JSON.stringify({ vector: [3, 4], top_k: 1 })), { ...json, 'content-encoding': 'gzip' });
    assert.equal(q.status, 200, q.body.toString());
    assert.equal(JSON.parse(q.body.toString()).results[0].id, 1000);
  } finally {
    await front.close();
  }
});

test('the body limit applies after inflating: a small gzip body cannot expand without bound', async () => {
  const small = await turbopufferServer({ bodyLimit: 10_000 });
  try {
    const bomb = gzipSync(Buffer.from(JSON.stringify({ documents: [{ id: 1, vector: [1, 2], attributes: { pad: ' '.repeat(1_000_000) } }] })));
    assert.ok(bomb.length < 10_000);
    const res = await raw(small.baseURL, 'POST', '/v1/namespaces/gz/upsert', bomb, { ...json, 'content-encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body.toString()).error.code, 'SILT_ERR_REQUEST_TOO_LARGE');
  } finally {
    await small.close();
  }
});

test('a gzip NDJSON stream is inflated as it arrives', async () => {
  const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: 5000 + i, vector: [1, i], attributes: { title: `streamed ${i}` } })).join('\n');
  const res = await raw(server.baseURL, 'POST', '/v1/namespaces/gz/upsert', gzipSync(lines), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
  assert.equal(res.status, 200, res.body.toString());
  const got = await raw(server.baseURL, 'GET', '/v1/namespaces/gz/documents/5299', null, {});
  assert.equal(JSON.parse(got.body.toString()).attributes.title, 'streamed 299');
});
