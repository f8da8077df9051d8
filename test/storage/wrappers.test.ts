// withPrefix, CountingObjectStore, createObjectStore, and the S3 test server as a process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createObjectStore, type StorageConfig } from '../../src/storage/index.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { listAll } from '../../src/storage/object-store.ts';
import { withPrefix } from '../../src/storage/prefix.ts';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';

async function keys(store: Parameters<typeof listAll>[0], prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
}

describe('withPrefix', () => {
  it('puts keys under prefix/, strips it from results, and pages through it', async () => {
    const inner = new MemoryObjectStore();
    const store = withPrefix(inner, '/tenant-a/');
    await inner.put('tenant-b/x', Buffer.from('other tenant'));
    for (const k of ['ns/1', 'ns/2', 'ns/3']) await store.put(k, Buffer.from(k));
    assert.deepEqual(await keys(inner, 'tenant-a/'), ['tenant-a/ns/1', 'tenant-a/ns/2', 'tenant-a/ns/3']);
    assert.equal((await store.head('ns/2'))?.key, 'ns/2');
    assert.equal((await store.get('ns/3')).body.toString(), 'ns/3');
    const first = await store.list('ns/', { maxKeys: 2 });
    assert.deepEqual(first.objects.map((o) => o.key), ['ns/1', 'ns/2']);
    assert.ok(first.nextToken !== undefined);
    const second = await store.list('ns/', { maxKeys: 2, continuationToken: first.nextToken });
    assert.deepEqual(second.objects.map((o) => o.key), ['ns/3']);
    assert.deepEqual((await store.list('', { startAfter: 'ns/1' })).objects.map((o) => o.key), ['ns/2', 'ns/3']);
    await store.delete('ns/1');
    assert.equal(await inner.head('tenant-a/ns/1'), null);
    assert.equal(withPrefix(inner, ''), inner, 'an empty prefix adds no wrapper');
  });
});

describe('CountingObjectStore', () => {
  it('counts requests by operation, failed ones included, until reset', async () => {
    const store = new CountingObjectStore(new MemoryObjectStore());
    await store.put('a', Buffer.from('a'));
    await store.get('a');
    await store.get('a', { suffix: 1 });
    await assert.rejects(store.get('missing'));
    await store.head('a');
    await store.list('');
    await store.delete('a');
    assert.deepEqual(store.counts(), { get: 3, head: 1, put: 1, list: 1, delete: 1 });
    assert.equal(store.total(), 7);
    store.reset();
    assert.deepEqual(store.counts(), { get: 0, head: 0, put: 0, list: 0, delete: 0 });
  });
});

describe('createObjectStore', () => {
  let directory: string;
  let server: S3TestServer;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'silt-create-'));
    server = await startS3Server({ directory: path.join(directory, 's3') });
  });
  after(async () => {
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  });

  const config = (backend: 'local' | 's3', walPrefix = ''): StorageConfig => ({
    backend,
    local: { root_path: path.join(directory, 'local') },
    s3: {
      bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, wal_prefix: walPrefix,
      request_timeout_ms: 5000, max_retries: 2, multipart_part_size: 16 * 1024 * 1024,
    },
  });

  it('local: a counting store over the root directory', async () => {
    const store = createObjectStore(config('local'));
    await store.put('ns/manifest/current', Buffer.from('1'), { ifNoneMatch: '*' });
    assert.equal((await store.get('ns/manifest/current')).body.toString(), '1');
    assert.deepEqual(store.counts(), { get: 1, head: 0, put: 1, list: 0, delete: 0 });
    store.close();
  });

  it('s3: retries transient failures, stores under wal_prefix, counts logical requests', async () => {
    const store = createObjectStore(config('s3', 'silt/prod'), {
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const raw = new S3ObjectStore({
      bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, requestTimeoutMs: 5000,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      server.failNext(2);
      await store.put('ns/wal/00000000000000000001.wal', Buffer.from('entry'), { ifNoneMatch: '*' });
      assert.equal((await raw.get('silt/prod/ns/wal/00000000000000000001.wal')).body.toString(), 'entry');
      assert.deepEqual(await keys(store, 'ns/'), ['ns/wal/00000000000000000001.wal']);
      assert.deepEqual(store.counts(), { get: 0, head: 0, put: 1, list: 1, delete: 0 });
      server.failNext(3);
      await assert.rejects(store.head('ns/x'), { kind: 'transient' });
    } finally {
      store.close();
      raw.close();
    }
  });
});

describe('s3-server-main (the test server as a process)', () => {
  it('prints its endpoint as one JSON line when ready and stops on SIGTERM', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'silt-s3-main-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/s3-server-main.ts'), '--dir', directory], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines: string[] = [];
      const stdout = createInterface({ input: child.stdout });
      const stdoutClosed = new Promise((resolve) => stdout.once('close', resolve));
      const first: string = await new Promise((resolve, reject) => {
        stdout.on('line', (line) => {
          lines.push(line);
          if (lines.length === 1) resolve(line);
        });
        child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
      });
      const ready = JSON.parse(first) as { endpoint: string; bucket: string; port: number };
      assert.match(ready.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(ready.bucket, 'silt-test');
      const store = new S3ObjectStore({
        bucket: ready.bucket, region: 'us-east-1', endpoint: ready.endpoint, requestTimeoutMs: 5000,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      await store.put('k', Buffer.from('v'), { ifNoneMatch: '*' });
      assert.equal((await store.get('k')).body.toString(), 'v');
      store.close();
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await stdoutClosed;
      assert.deepEqual(lines, [first], 'nothing else on stdout');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(directory, { recursive: true, force: true });
    }
  });
});
