// Request ids and probe logging: a valid x-request-id is honoured, anything else replaced by a new
// id; the response carries it, every log line of the request has it as request_id, and a relay to
// the owner passes it on. /health and /ready log at debug, and /ready fails on a local root that
// is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { forward } from '../../src/cluster/forward.ts';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { queryNode, testApp } from '../support/app.ts';

type Line = { level: number; msg: string; request_id?: string; reqId?: string };

/** A debug-level logger that keeps its lines. */
function capture(): { log: ReturnType<typeof pino>; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, log: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) }) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEBUG = 20;
const INFO = 30;

test('a valid x-request-id is echoed and carried by every log line of the request as request_id', async () => {
  const { log, lines } = capture();
  const t = testApp({ log });
  try {
    const res = await t.call('GET', '/v1/namespaces/nope', undefined, { 'x-request-id': 'client-7f3a:1' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-request-id'], 'client-7f3a:1');
    const mine = lines.filter((l) => l.request_id === 'client-7f3a:1');
    assert.deepEqual(mine.map((l) => l.msg), ['incoming request', 'request completed']);
    assert.ok(lines.every((l) => l.reqId === undefined), 'the field is request_id');
  } finally {
    await t.app.close();
  }
});

test('a missing or invalid x-request-id gets a new id, returned in the response', async () => {
  const t = testApp();
  try {
    const ids = new Set<string>();
    for (const given of [undefined, 'x'.repeat(129), 'has space', 'tab\there', '']) {
      const res = await t.call('GET', '/health', undefined, given === undefined ? {} : { 'x-request-id': given });
      assert.equal(res.status, 200);
      const id = String(res.headers['x-request-id']);
      assert.match(id, UUID, `for ${JSON.stringify(given)}`);
      ids.add(id);
    }
    assert.equal(ids.size, 5, 'each request its own id');
    assert.equal((await t.call('GET', '/health', undefined, { 'x-request-id': 'x'.repeat(128) })).headers['x-request-id'], 'x'.repeat(128));
    // Errors answered before routing carry it too.
    const bad = await t.app.inject({ method: 'GET', url: '/v1/namespaces/%zz', headers: { 'x-request-id': 'edge-1' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['x-request-id'], 'edge-1');
  } finally {
    await t.app.close();
  }
});

test('probes log at debug; other requests at info', async () => {
  const { log, lines } = capture();
  const t = testApp({ log });
  try {
    for (const url of ['/health', '/ready']) assert.equal((await t.call('GET', url)).status, 200);
    assert.ok(lines.length >= 4);
    assert.deepEqual(lines.filter((l) => l.level >= INFO), [], 'no probe line at info');
    assert.ok(lines.every((l) => l.level === DEBUG));
    lines.length = 0;
    await t.call('GET', '/v1/namespaces');
    assert.deepEqual(lines.map((l) => [l.level, l.msg]), [[INFO, 'incoming request'], [INFO, 'request completed']]);
  } finally {
    await t.app.close();
  }
});

test('/ready is 503 when the local storage root is gone', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'silt-ready-'));
  const t = testApp({ store: new CountingObjectStore(new LocalFsObjectStore(root)) });
  try {
    assert.equal((await t.call('GET', '/ready')).status, 200);
    rmSync(root, { recursive: true, force: true });
    const res = await t.call('GET', '/ready');
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'SILT_ERR_STORAGE_UNAVAILABLE');
    assert.doesNotMatch(res.body.error.message, /silt-ready-/, 'the path goes to the log, not the client');
  } finally {
    await t.app.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('forward() sends the request id to the owner', async () => {
  let seen: string | undefined;
  const server = createServer((req, res) => {
    seen = req.headers['x-request-id'] as string | undefined;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    await forward(`http://127.0.0.1:${port}`, { method: 'GET', path: '/x', body: null, contentType: undefined, timeoutMs: 5000, from: 'q', requestId: 'abc-1' });
    assert.equal(seen, 'abc-1');
  } finally {
    server.close();
  }
});

test('a request relayed to the owner keeps its id in the owner\'s log lines, given or generated', async () => {
  const store = new MemoryObjectStore();
  const { log, lines } = capture();
  const owner = testApp({ store, log });
  const ownerUrl = await owner.app.listen({ host: '127.0.0.1', port: 0 });
  const relay = queryNode(owner, ownerUrl);
  try {
    const given = await relay.inject({ method: 'PUT', url: '/v1/namespaces/r', payload: { vector_dim: 2 }, headers: { 'x-request-id': 'via-relay-1' } });
    assert.equal(given.statusCode, 201);
    assert.equal(given.headers['x-silt-via'], 'query-1');
    assert.equal(given.headers['x-request-id'], 'via-relay-1');
    assert.deepEqual(lines.filter((l) => l.request_id === 'via-relay-1').map((l) => l.msg), ['incoming request', 'request completed']);

    const generated = await relay.inject({ method: 'GET', url: '/v1/namespaces/r' });
    assert.equal(generated.statusCode, 200);
    const id = String(generated.headers['x-request-id']);
    assert.match(id, UUID);
    assert.equal(lines.filter((l) => l.request_id === id).length, 2, 'the owner logged the relay\'s id');
  } finally {
    await relay.close();
    await owner.app.close();
  }
});
