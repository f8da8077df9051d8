// What is specific to the S3 backend: failures of the network classified as transient (so the
// retry wrapper handles them), timeouts that really fire, and the key prefix.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isStorageError } from '../../src/storage/errors.ts';
import { listAll } from '../../src/storage/object-store.ts';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function storeAt(endpoint: string, requestTimeoutMs = 300, prefix?: string): S3ObjectStore {
  return new S3ObjectStore({
    bucket: 'silt-test', region: 'us-east-1', endpoint, requestTimeoutMs, credentials,
    ...(prefix === undefined ? {} : { prefix }),
  });
}

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

describe('S3ObjectStore failure classification', () => {
  it('a server that never answers times out as transient, within the request timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => { sockets.push(socket); });
    const port = await listen(silent);
    const store = storeAt(`http://127.0.0.1:${port}`);
    try {
      const started = Date.now();
      await assert.rejects(store.get('k'), (e: unknown) => isStorageError(e, 'transient') && /timeout|timed out/i.test(e.message));
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      await assert.rejects(store.put('k', Buffer.from('x'), { ifNoneMatch: '*' }), (e: unknown) => isStorageError(e, 'transient'));
    } finally {
      store.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a body that stalls halfway times out as transient', async () => {
    const stalling = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000', ETag: '"x"' });
      res.write(Buffer.alloc(10));
    });
    const port = await listen(stalling);
    const store = storeAt(`http://127.0.0.1:${port}`);
    try {
      await assert.rejects(store.get('k'), (e: unknown) => isStorageError(e, 'transient'));
    } finally {
      store.close();
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  it('a refused connection is transient', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const store = storeAt(`http://127.0.0.1:${port}`);
    try {
      await assert.rejects(store.head('k'), (e: unknown) => isStorageError(e, 'transient'));
    } finally {
      store.close();
    }
  });
});

describe('S3ObjectStore prefix', () => {
  let directory: string;
  let server: S3TestServer;
  let raw: S3ObjectStore;
  let prefixed: S3ObjectStore;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'silt-s3-prefix-'));
    server = await startS3Server({ directory });
    raw = storeAt(server.endpoint, 5000);
    prefixed = storeAt(server.endpoint, 5000, 'deploy/');
  });
  after(async () => {
    raw.close();
    prefixed.close();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('stores keys under the prefix and hides it from callers', async () => {
    await prefixed.put('ns/wal/1', Buffer.from('a'));
    await prefixed.put('ns/wal/2', Buffer.from('b'));
    await raw.put('other', Buffer.from('not ours'));
    assert.equal((await raw.get('deploy/ns/wal/1')).body.toString(), 'a');
    assert.equal((await prefixed.head('ns/wal/2'))?.key, 'ns/wal/2');
    const keys: string[] = [];
    for await (const o of listAll(prefixed, '')) keys.push(o.key);
    assert.deepEqual(keys, ['ns/wal/1', 'ns/wal/2']);
    const page = await prefixed.list('ns/', { startAfter: 'ns/wal/1' });
    assert.deepEqual(page.objects.map((o) => o.key), ['ns/wal/2']);
  });
});

describe('S3ObjectStore multipart uploads', () => {
  const PART = 5 * 1024 * 1024; // S3's smallest part
  let directory: string;
  let server: S3TestServer;
  let store: S3ObjectStore;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'silt-s3-multipart-'));
    server = await startS3Server({ directory });
    store = new S3ObjectStore({
      bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, requestTimeoutMs: 10_000, credentials, partSizeBytes: PART,
    });
  });
  after(async () => {
    store.close();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  });

  const body = (seed: number) => {
    const b = Buffer.alloc(2 * PART + 12344);
    for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
    return b;
  };

  it('stores a body larger than a part in parts and reads it back whole and by range', async () => {
    const before = server.requests();
    const bytes = body(1);
    await store.put('ns/seg/big', bytes, { ifNoneMatch: '*' });
    // create + 3 parts + complete: no single request carries the whole object
    assert.ok(server.requests() - before >= 5, `${server.requests() - before} requests`);
    assert.ok((await store.get('ns/seg/big')).body.equals(bytes));
    const across = await store.get('ns/seg/big', { offset: PART - 10, length: 20 });
    assert.ok(across.body.equals(bytes.subarray(PART - 10, PART + 10)));
    assert.equal((await store.head('ns/seg/big'))?.size, bytes.length);
  });

  it('keeps the write conditions: create-if-absent and compare-and-swap lose without changing the object', async () => {
    const first = body(2);
    const { etag } = await store.put('ns/seg/cond', first, { ifNoneMatch: '*' });
    await assert.rejects(store.put('ns/seg/cond', body(3), { ifNoneMatch: '*' }), (e: unknown) => isStorageError(e, 'precondition_failed'));
    await assert.rejects(store.put('ns/seg/cond', body(4), { ifMatch: '"not-the-etag"' }), (e: unknown) => isStorageError(e, 'precondition_failed'));
    await assert.rejects(store.put('ns/seg/absent', body(5), { ifMatch: etag }), (e: unknown) => isStorageError(e, 'precondition_failed'));
    assert.ok((await store.get('ns/seg/cond')).body.equals(first));
    assert.equal(await store.head('ns/seg/absent'), null);
    const second = body(6);
    await store.put('ns/seg/cond', second, { ifMatch: etag });
    assert.ok((await store.get('ns/seg/cond')).body.equals(second));
  });

  it('a failed request fails the put as transient, and a retry stores the whole object', async () => {
    server.failNext(1, 503);
    const bytes = body(7);
    await assert.rejects(store.put('ns/seg/retry', bytes, { ifNoneMatch: '*' }), (e: unknown) => isStorageError(e, 'transient'));
    assert.equal(await store.head('ns/seg/retry'), null);
    await store.put('ns/seg/retry', bytes, { ifNoneMatch: '*' });
    assert.ok((await store.get('ns/seg/retry')).body.equals(bytes));
  });
});
