// `silt backup` and `silt restore` as a user runs them: against the storage a real node serves
// (local directory, then the S3 test server), into a fresh storage that a new node then serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startS3Server } from '../support/s3-server.ts';
import { http, startSilt } from '../support/silt-process.ts';
import { doc, silt, tempDir } from './support.ts';

const SCHEMA = { vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string' } } };

async function seed(url: string) {
  assert.equal((await http(url, 'PUT', '/v1/namespaces/books', SCHEMA)).status, 201);
  assert.equal((await http(url, 'POST', '/v1/namespaces/books/upsert', { documents: [doc(1), doc(2)] })).status, 200);
  assert.equal((await http(url, 'POST', '/v1/namespaces/books/flush')).status, 200);
  // Acknowledged, not yet in a segment: the backup takes the WAL tail too.
  assert.equal((await http(url, 'POST', '/v1/namespaces/books/upsert', { documents: [doc(3)] })).status, 200);
}

async function ids(url: string): Promise<number[]> {
  const res = await http(url, 'GET', '/v1/namespaces/books/documents');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.documents.map((d: { id: number }) => d.id);
}

test('silt backup to a directory, incrementally, and silt restore into an empty local storage', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const liveEnv = { SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache') };
  const live = await startSilt(liveEnv);
  try {
    await seed(live.url);
    const first = await silt(['backup', '--to', join(dir, 'backup')], liveEnv);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /backed up 'books' at version \d+\n/);
    assert.match(first.stdout, /backed up 1 namespaces: \d+ objects copied .*, 0 segments already there/);
    const second = await silt(['backup', '--to', join(dir, 'backup'), '--namespace', 'books'], liveEnv);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /, 1 segments already there/, 'immutable segments are copied once');
  } finally {
    await live.stop();
  }
  const freshEnv = { SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'fresh'), SILT_CACHE_DISK_PATH: join(dir, 'cache2') };
  const restored = await silt(['restore', '--from', join(dir, 'backup')], freshEnv);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /restored 'books' at version/);
  const again = await silt(['restore', '--from', join(dir, 'backup')], freshEnv);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, "silt restore: namespace 'books' already exists at the destination; delete it there first\n");
  const empty = await silt(['restore', '--from', join(dir, 'nothing')], freshEnv);
  assert.match(empty.stderr, /holds no backup/);
  const node = await startSilt(freshEnv);
  try {
    assert.deepEqual(await ids(node.url), [1, 2, 3]);
  } finally {
    await node.stop();
  }
});

test('silt backup to s3://bucket/prefix and silt restore into a fresh prefix, through the S3 test server', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  const s3Env = (prefix: string, cache: string) => ({
    SILT_STORAGE_BACKEND: 's3', SILT_STORAGE_S3_BUCKET: s3.bucket, SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
    SILT_STORAGE_S3_WAL_PREFIX: prefix, SILT_STORAGE_S3_MAX_RETRIES: '2',
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', SILT_CACHE_DISK_PATH: join(dir, cache),
  });
  try {
    const live = await startSilt(s3Env('live', 'c1'));
    try {
      await seed(live.url);
      const run = await silt(['backup', '--to', `s3://${s3.bucket}/backups/one`], s3Env('live', 'c1'));
      assert.equal(run.code, 0, run.stderr);
    } finally {
      await live.stop();
    }
    const restored = await silt(['restore', '--from', `s3://${s3.bucket}/backups/one`, '--namespace', 'books'], s3Env('fresh', 'c2'));
    assert.equal(restored.code, 0, restored.stderr);
    const node = await startSilt(s3Env('fresh', 'c2'));
    try {
      assert.deepEqual(await ids(node.url), [1, 2, 3]);
      assert.equal((await http(node.url, 'POST', '/v1/namespaces/books/upsert', { documents: [doc(4)] })).status, 200, 'and takes writes');
      assert.deepEqual(await ids(node.url), [1, 2, 3, 4]);
    } finally {
      await node.stop();
    }
  } finally {
    await s3.stop();
  }
});
