import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isStorageError, StorageError } from '../../src/storage/errors.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore, PutCondition } from '../../src/storage/object-store.ts';
import { withRetry, type RetryOptions } from '../../src/storage/retry.ts';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';

const fast: RetryOptions = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 };

describe('withRetry against the S3 test server', () => {
  let directory: string;
  let server: S3TestServer;
  let s3: S3ObjectStore;
  let store: ObjectStore;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'silt-retry-'));
    server = await startS3Server({ directory });
    s3 = new S3ObjectStore({
      bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, requestTimeoutMs: 5000,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    store = withRetry(s3, fast);
  });
  after(async () => {
    s3.close();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  });

  /** Runs `fn` and returns how many requests reached the server meanwhile. */
  async function requestsDuring(fn: () => Promise<unknown>): Promise<number> {
    const before = server.requests();
    await fn();
    return server.requests() - before;
  }

  it('retries transient failures (503, 500) until the operation succeeds', async () => {
    server.failNext(2);
    assert.equal(await requestsDuring(() => store.put('r/put', Buffer.from('hello'))), 3);
    server.failNext(3, 500);
    assert.equal(await requestsDuring(async () => {
      assert.equal((await store.get('r/put')).body.toString(), 'hello');
    }), 4);
    server.failNext(1);
    assert.equal(await requestsDuring(async () => assert.equal((await store.list('r/')).objects.length, 1)), 2);
    server.failNext(1);
    assert.equal(await requestsDuring(async () => assert.notEqual(await store.head('r/put'), null)), 2);
    server.failNext(1);
    assert.equal(await requestsDuring(() => store.delete('r/put')), 2);
  });

  it('gives up after maxRetries and throws the transient error', async () => {
    server.failNext(10);
    const sent = await requestsDuring(() => assert.rejects(store.get('r/anything'), (e: unknown) => isStorageError(e, 'transient')));
    assert.equal(sent, 1 + fast.maxRetries);
    server.failNext(0);
  });

  it('does not retry precondition_failed, not_found or permanent errors', async () => {
    await store.put('r/once', Buffer.from('x'), { ifNoneMatch: '*' });
    assert.equal(await requestsDuring(() => assert.rejects(
      store.put('r/once', Buffer.from('y'), { ifNoneMatch: '*' }), (e: unknown) => isStorageError(e, 'precondition_failed'))), 1);
    assert.equal(await requestsDuring(() => assert.rejects(
      store.get('r/missing'), (e: unknown) => isStorageError(e, 'not_found'))), 1);
    const noBucketS3 = new S3ObjectStore({
      bucket: 'no-such-bucket', region: 'us-east-1', endpoint: server.endpoint, requestTimeoutMs: 5000,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      assert.equal(await requestsDuring(() => assert.rejects(
        withRetry(noBucketS3, fast).put('k', Buffer.from('x')), (e: unknown) => isStorageError(e, 'permanent'))), 1);
    } finally {
      noBucketS3.close();
    }
  });

  it('a conditional put retried after a transient failure still wins exactly once', async () => {
    server.failNext(1);
    await store.put('r/cond', Buffer.from('mine'), { ifNoneMatch: '*' });
    assert.equal((await store.get('r/cond')).body.toString(), 'mine');
  });
});

/** Applies each put and then reports a transient failure, like a response lost on the way back. */
class LostResponseStore extends MemoryObjectStore {
  losses = 0;
  override async put(key: string, body: Uint8Array, condition?: PutCondition) {
    const result = await super.put(key, body, condition);
    if (this.losses > 0) {
      this.losses -= 1;
      throw new StorageError('transient', 'put', key, 'connection reset after the write');
    }
    return result;
  }
}

describe('withRetry and conditional puts whose outcome was unknown', () => {
  it('create-if-absent that landed before a timeout reports success with the stored etag', async () => {
    const inner = new LostResponseStore();
    inner.losses = 1;
    const { etag } = await withRetry(inner, fast).put('wal/1', Buffer.from('entry from writer A'), { ifNoneMatch: '*' });
    assert.equal(etag, (await inner.head('wal/1'))?.etag);
  });

  it('create-if-absent still fails when the bytes stored are someone else\'s', async () => {
    const inner = new MemoryObjectStore();
    // The first attempt times out without landing; meanwhile writer B creates the key.
    let first = true;
    const racing: ObjectStore = {
      ...bind(inner),
      put: async (key, body, condition) => {
        if (first) {
          first = false;
          await inner.put(key, Buffer.from('entry from writer B'));
          throw new StorageError('transient', 'put', key, 'timeout');
        }
        return inner.put(key, body, condition);
      },
    };
    await assert.rejects(withRetry(racing, fast).put('wal/2', Buffer.from('entry from writer A'), { ifNoneMatch: '*' }),
      (e: unknown) => isStorageError(e, 'precondition_failed'));
    assert.equal((await inner.get('wal/2')).body.toString(), 'entry from writer B');
  });

  it('compare-and-swap that landed before a timeout reports success', async () => {
    const inner = new LostResponseStore();
    const v1 = await inner.put('manifest/current', Buffer.from('v1'));
    inner.losses = 1;
    const { etag } = await withRetry(inner, fast).put('manifest/current', Buffer.from('v2 by A'), { ifMatch: v1.etag });
    const stored = await inner.get('manifest/current');
    assert.equal(stored.body.toString(), 'v2 by A');
    assert.equal(etag, stored.etag);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const delays: number[] = [];
    const inner = new LostResponseStore();
    inner.losses = 5;
    const store = withRetry(inner, {
      maxRetries: 5, baseDelayMs: 100, maxDelayMs: 500, random: () => 0.999999,
      sleep: async (ms) => { delays.push(ms); },
    });
    await store.put('k', Buffer.from('x'));
    assert.deepEqual(delays, [99, 199, 399, 499, 499]);
  });
});

function bind(store: ObjectStore): ObjectStore {
  return {
    get: store.get.bind(store),
    head: store.head.bind(store),
    put: store.put.bind(store),
    list: store.list.bind(store),
    delete: store.delete.bind(store),
  };
}
