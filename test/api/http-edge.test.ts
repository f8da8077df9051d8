// What the HTTP layer itself answers, over real sockets on 127.0.0.1: every response, including
// those refused before routing, is in Silt's envelope with x-silt-node, and slow or surplus
// clients cannot hold the server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { testApp, type TestApp } from '../support/app.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { StorageError } from '../../src/storage/errors.ts';
import type { PutCondition } from '../../src/storage/object-store.ts';
import { httpRequest, rawRequest, type RawResponse } from '../support/raw-http.ts';

const LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxConnections: 100 };

async function listening(t: TestApp): Promise<number> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  after(() => t.app.close());
  return (t.app.server.address() as net.AddressInfo).port;
}

function assertEnvelope(res: RawResponse, status: number, code: string): { code: string; message: string } {
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['x-silt-node'], 'test', `x-silt-node on ${status} ${code}`);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code, res.body);
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

const JSON_CLOSE: Array<[string, string]> = [['content-type', 'application/json'], ['connection', 'close']];

test('namespace names up to 128 characters and 64-byte string ids work; a longer path segment is a 414 in the envelope', async () => {
  const t = testApp({ http: LIMITS });
  const port = await listening(t);
  const name = 'n'.repeat(128);
  const put = await rawRequest(port, httpRequest('PUT', `/v1/namespaces/${name}`, { headers: JSON_CLOSE, body: '{"vector_dim":2}' }));
  assert.equal(put.status, 201, put.body);
  const id = 'é'.repeat(32); // 64 bytes of UTF-8, 192 characters percent-encoded
  const upsert = await rawRequest(port, httpRequest('POST', `/v1/namespaces/${name}/upsert`, {
    headers: JSON_CLOSE, body: JSON.stringify({ documents: [{ id, vector: [1, 2] }] }),
  }));
  assert.equal(upsert.status, 200, upsert.body);
  const got = await rawRequest(port, httpRequest('GET', `/v1/namespaces/${name}/documents/${encodeURIComponent(id)}`, { headers: [['connection', 'close']] }));
  assert.equal(got.status, 200, got.body);
  assert.equal(JSON.parse(got.body).id, id);

  const long = await rawRequest(port, httpRequest('GET', `/v1/namespaces/${'n'.repeat(385)}`, { headers: [['connection', 'close']] }));
  const e = assertEnvelope(long, 414, 'SILT_ERR_REQUEST_URL_TOO_LONG');
  assert.match(e.message, /at most 128 characters/);
  // Between 129 and 384 characters the router lets it through and name validation says what is wrong.
  const invalid = await rawRequest(port, httpRequest('GET', `/v1/namespaces/${'n'.repeat(200)}`, { headers: [['connection', 'close']] }));
  assertEnvelope(invalid, 400, 'SILT_ERR_NAMESPACE_NAME');
});

test('a malformed URL, an unknown route and a wrong method get the envelope and x-silt-node', async () => {
  const port = await listening(testApp({ http: LIMITS }));
  const close: Array<[string, string]> = [['connection', 'close']];
  const bad = assertEnvelope(await rawRequest(port, httpRequest('GET', '/v1/namespaces/%zz', { headers: close })), 400, 'SILT_ERR_REQUEST_URL');
  assert.match(bad.message, /encodeURIComponent/);
  assertEnvelope(await rawRequest(port, httpRequest('POST', '/v1/namespaces/a/documents/%E0%A4%A', { headers: close })), 400, 'SILT_ERR_REQUEST_URL');
  assertEnvelope(await rawRequest(port, httpRequest('GET', '/nope', { headers: close })), 404, 'SILT_ERR_ROUTE_NOT_FOUND');
  assertEnvelope(await rawRequest(port, httpRequest('PATCH', '/v1/namespaces/a', { headers: close })), 404, 'SILT_ERR_ROUTE_NOT_FOUND');
});

test('bodies declared as JSON, text, form or nothing are read as JSON; other types, charsets and encodings get 415', async () => {
  const t = testApp({ http: LIMITS });
  const port = await listening(t);
  await t.call('PUT', '/v1/namespaces/ct', { vector_dim: 2 });
  const upsert = (headers: Array<[string, string]>) => rawRequest(port, httpRequest('POST', '/v1/namespaces/ct/upsert', {
    headers: [...headers, ['connection', 'close']], body: '{"documents":[{"id":1,"vector":[1,2]}]}',
  }));
  for (const type of ['application/json', 'application/json; charset=UTF-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json']) {
    const res = await upsert([['content-type', type]]);
    assert.equal(res.status, 200, `${type}: ${res.body}`);
  }
  assert.equal((await upsert([])).status, 200, 'no content-type');
  for (const headers of [
    [['content-type', 'multipart/form-data; boundary=x']],
    [['content-type', 'application/octet-stream']],
    [['content-type', 'application/json; charset=utf-16']],
    [['content-type', 'application/json'], ['content-encoding', 'br']],
    [['content-type', 'foo']],
  ] as Array<Array<[string, string]>>) {
    const e = assertEnvelope(await upsert(headers), 415, 'SILT_ERR_REQUEST_CONTENT_TYPE');
    assert.match(e.message, /application\/json/);
  }
  // gzip is accepted (turbopuffer's client sends it); a body that is not gzip is named as such.
  assertEnvelope(await upsert([['content-type', 'application/json'], ['content-encoding', 'gzip']]), 400, 'SILT_ERR_REQUEST_BODY_ENCODING');
});

test('a body over the limit is a 413 naming the configured limit', async () => {
  const port = await listening(testApp({ http: LIMITS, bodyLimit: 1000 }));
  const big = JSON.stringify({ documents: [{ id: 1, vector: Array(1000).fill(1) }] });
  const res = await rawRequest(port, httpRequest('POST', '/v1/namespaces/a/upsert', { headers: JSON_CLOSE, body: big }));
  const e = assertEnvelope(res, 413, 'SILT_ERR_REQUEST_TOO_LARGE');
  assert.match(e.message, /exceeds 1000 bytes/);
});

test('requests that are not valid HTTP get a 400 or 431 in the envelope before the connection closes', async () => {
  const port = await listening(testApp({ http: LIMITS }));
  assertEnvelope(await rawRequest(port, 'GARBAGE\r\n\r\n'), 400, 'SILT_ERR_REQUEST_MALFORMED');
  assertEnvelope(await rawRequest(port, 'GET /health HTTP/1.1\r\nbad header\r\n\r\n'), 400, 'SILT_ERR_REQUEST_MALFORMED');
  // A body shorter than its content-length, then the client stops sending.
  const truncated = 'POST /v1/namespaces/a/upsert HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{"docu';
  assertEnvelope(await rawRequest(port, truncated, { end: true }), 400, 'SILT_ERR_REQUEST_MALFORMED');
  const huge = `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;
  assertEnvelope(await rawRequest(port, huge), 431, 'SILT_ERR_REQUEST_HEADERS_TOO_LARGE');
});

/** A client that opens a connection and sends `prefix`, then one byte every `everyMs`. */
function trickle(port: number, prefix: string, everyMs: number): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(prefix));
    const timer = setInterval(() => socket.writable && socket.write(' '), everyMs);
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const headers = Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.split(':')[0]!.toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers, body, closedEarly: false });
    });
  });
}

test('a trickled body or silent connection is answered 408 and closed, while other clients are served throughout', { timeout: 30_000 }, async () => {
  const limits = { ...LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 1500 };
  const t = testApp({ http: limits });
  const port = await listening(t);
  const slowBody = trickle(port, 'POST /v1/namespaces/a/upsert HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{', 100);
  const slowHeaders = trickle(port, 'GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ', 50);
  const silent = trickle(port, '', 60_000);
  let closed = false;
  const all = Promise.all([slowBody, slowHeaders, silent]).finally(() => (closed = true));
  let served = 0;
  while (!closed) {
    const res = await rawRequest(port, httpRequest('GET', '/health', { headers: [['connection', 'close']] }));
    assert.equal(res.status, 200);
    served++;
    await new Promise((r) => setTimeout(r, 20));
  }
  const [body, headers, idle] = await all;
  for (const res of [body, headers, idle]) {
    assert.equal(res.status, 408, res.body);
    assert.equal(res.headers['x-silt-node'], 'test');
    const e = JSON.parse(res.body).error;
    assert.equal(e.code, 'SILT_ERR_REQUEST_TIMEOUT');
    assert.match(e.message, /server\.request_timeout_ms/);
  }
  assert.ok(served > 1, 'another client was served while the slow ones were held');
});

test('connections beyond server.max_connections are closed on arrival; those already open keep working', { timeout: 30_000 }, async () => {
  const port = await listening(testApp({ http: { ...LIMITS, maxConnections: 3 } }));
  const open: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    open.push(await new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
    }));
  }
  after(() => open.forEach((s) => s.destroy()));
  // Each open socket is a keep-alive client: it can make requests one after the other.
  const ask = (s: net.Socket) => new Promise<string>((resolve) => {
    let data = '';
    const onData = (d: Buffer) => {
      data += d;
      if (data.includes('"status":"ok"')) {
        s.off('data', onData);
        resolve(data);
      }
    };
    s.on('data', onData);
    s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  });
  const refused = await rawRequest(port, httpRequest('GET', '/health', { headers: [['connection', 'close']] }));
  assert.equal(refused.status, 0, 'the fourth connection gets no response');
  assert.ok(refused.closedEarly);
  for (const s of open) assert.match(await ask(s), /^HTTP\/1\.1 200/);
  for (const s of open) assert.match(await ask(s), /^HTTP\/1\.1 200/);

  // Once one closes, a new client gets in.
  open.pop()!.destroy();
  let res: RawResponse;
  do {
    await new Promise((r) => setTimeout(r, 20));
    res = await rawRequest(port, httpRequest('GET', '/health', { headers: [['connection', 'close']] }));
  } while (res.status === 0);
  assert.equal(res.status, 200);
});

/** Object storage that stops taking writes, the way S3 does when a connection keeps resetting. */
class FailingPuts extends MemoryObjectStore {
  failing = false;
  override async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    if (this.failing) throw new StorageError('transient', 'put', key, 'socket hang up (ECONNRESET) from s3.internal:9000');
    return super.put(key, body, condition);
  }
}

test('a storage failure names the namespace to the client; the object key and the store\'s error are only in the log', async () => {
  const store = new FailingPuts();
  const lines: Array<Record<string, unknown>> = [];
  const t = testApp({ store, http: LIMITS, log: pino({ level: 'error' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) });
  const port = await listening(t);
  await t.call('PUT', '/v1/namespaces/docs', { vector_dim: 2 });
  store.failing = true;
  const res = await rawRequest(port, httpRequest('POST', '/v1/namespaces/docs/upsert', {
    headers: JSON_CLOSE, body: JSON.stringify({ documents: [{ id: 1, vector: [1, 2] }] }),
  }));
  const e = assertEnvelope(res, 503, 'SILT_ERR_STORAGE_UNAVAILABLE');
  assert.match(e.message, /for namespace 'docs'.*nothing was acknowledged, retry later/);
  for (const secret of ['docs/wal/', 'ECONNRESET', 's3.internal']) assert.ok(!e.message.includes(secret), e.message);
  const logged = lines.find((l) => l.msg === 'request failed');
  assert.match(String(logged?.object), /^docs\/wal\/\d+\.wal$/);
  assert.match(String(logged?.storage_error), /ECONNRESET/);
});
