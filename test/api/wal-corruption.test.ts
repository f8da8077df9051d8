import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { testApp } from '../support/app.ts';

/** A logger whose lines the test can read: the object keys clients are not told belong there. */
function capturedLog(): { log: FastifyBaseLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

test('a corrupt WAL object stops the namespace with an error naming it, and the log names the object; it is never skipped', async () => {
  const store = new MemoryObjectStore();
  const first = testApp({ store });
  await first.call('PUT', '/v1/namespaces/c', { vector_dim: 2 });
  for (let i = 0; i < 3; i++) {
    await first.call('POST', '/v1/namespaces/c/upsert', { documents: [{ id: i, vector: [i, 1] }] });
  }
  const key = 'c/wal/00000000000000000002.wal';
  const { body } = await store.get(key);
  body[body.length - 10] = body[body.length - 10]! ^ 0xff;
  await store.put(key, body);

  const { log, lines } = capturedLog();
  const restarted = testApp({ store, log });
  for (const [method, url, payload] of [
    ['POST', '/v1/namespaces/c/query', { vector: [1, 1] }],
    ['POST', '/v1/namespaces/c/upsert', { documents: [{ id: 9, vector: [1, 1] }] }],
  ] as const) {
    const res = await restarted.call(method, url, payload);
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, 'SILT_ERR_WAL_CORRUPT');
    assert.match(res.body.error.message, /^namespace 'c' is stopped: its write-ahead log is corrupt \(CRC mismatch.*restore/);
    assert.ok(!res.body.error.message.includes('c/wal/'), `no object key in the client's message: ${res.body.error.message}`);
  }
  const logged = lines.find((l) => l.msg === 'request failed');
  assert.equal(logged?.object, key, 'the log line names the object');
  assert.equal(logged?.namespace, 'c');
  // Nothing was written past the corruption.
  assert.equal((await store.head('c/wal/00000000000000000004.wal')), null);

  // A missing object in the middle of the sequence is reported the same way.
  await store.put(key, (await first.store.get('c/wal/00000000000000000001.wal')).body);
  await store.delete(key);
  const res = await testApp({ store }).call('POST', '/v1/namespaces/c/query', { vector: [1, 1] });
  assert.equal(res.body.error.code, 'SILT_ERR_WAL_CORRUPT');
  assert.match(res.body.error.message, /namespace 'c' is stopped: its write-ahead log is corrupt \(missing: the WAL jumps from seq 1 to 3\)/);
  assert.ok(!res.body.error.message.includes('.wal'), res.body.error.message);
});

test('a corrupt segment stops the namespace with an error naming the segment; the object key is only in the log', async () => {
  const store = new MemoryObjectStore();
  const first = testApp({ store });
  await first.call('PUT', '/v1/namespaces/s', { vector_dim: 2 });
  await first.call('POST', '/v1/namespaces/s/upsert', { documents: [{ id: 1, vector: [1, 1] }, { id: 2, vector: [1, 2] }] });
  const flushed = await first.call('POST', '/v1/namespaces/s/flush');
  const segmentId: string = flushed.body.segments[0].id;
  const key = `s/seg/${segmentId}.seg`;
  const { body } = await store.get(key);
  body[5] = body[5]! ^ 0xff;
  await store.put(key, body);
  const { log, lines } = capturedLog();
  const res = await testApp({ store, log }).call('POST', '/v1/namespaces/s/query', { vector: [1, 1] });
  assert.equal(res.status, 500);
  assert.equal(res.body.error.code, 'SILT_ERR_SEGMENT_CORRUPT');
  assert.ok(res.body.error.message.startsWith(`namespace 's' is stopped: segment ${segmentId} is corrupt`), res.body.error.message);
  assert.ok(!res.body.error.message.includes(key) && !res.body.error.message.includes('s/seg/'), res.body.error.message);
  assert.equal(lines.find((l) => l.msg === 'request failed')?.object, key);
});

test('a WAL object written by another writer fences this one: 409, then it catches up', async () => {
  const store = new MemoryObjectStore();
  const mine = testApp({ store });
  await mine.call('PUT', '/v1/namespaces/f', { vector_dim: 2 });
  await mine.call('POST', '/v1/namespaces/f/upsert', { documents: [{ id: 1, vector: [1, 0] }] });
  // Another process that believes it owns 'f' commits seq 2 first.
  const other = testApp({ store });
  assert.equal((await other.call('POST', '/v1/namespaces/f/upsert', { documents: [{ id: 2, vector: [0, 1] }] })).status, 200);

  const lost = await mine.call('POST', '/v1/namespaces/f/upsert', { documents: [{ id: 3, vector: [1, 1] }] });
  assert.equal(lost.status, 409);
  assert.equal(lost.body.error.code, 'SILT_ERR_NAMESPACE_WRITE_CONFLICT');
  assert.equal((await mine.call('GET', '/v1/namespaces/f/documents/3')).status, 404, 'the losing write was not applied');
  // The next write replays the other writer's entry first, so nothing it acknowledged is lost.
  assert.equal((await mine.call('POST', '/v1/namespaces/f/upsert', { documents: [{ id: 3, vector: [1, 1] }] })).status, 200);
  for (const id of [1, 2, 3]) assert.equal((await mine.call('GET', `/v1/namespaces/f/documents/${id}`)).status, 200);
});
