// A node asks object storage once before it listens (src/storage/probe.ts): with storage there,
// the probe's requests are made before the first client request; with storage unreachable, the
// node still listens, says so in its log, and /ready answers 503 until storage answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSilt } from '../support/silt-process.ts';
import { startS3Server } from '../support/s3-server.ts';

const s3Env = (endpoint: string, bucket: string, dir: string) => ({
  SILT_STORAGE_BACKEND: 's3',
  SILT_STORAGE_S3_BUCKET: bucket,
  SILT_STORAGE_S3_ENDPOINT: endpoint,
  SILT_STORAGE_S3_REGION: 'us-east-1',
  SILT_STORAGE_S3_MAX_RETRIES: '0',
  SILT_CACHE_DISK_PATH: join(dir, 'cache'),
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const warned = (logs: string[]) => logs.some((l) => l.includes('object storage did not answer at start'));

test('storage is asked before the node listens: its list and read are counted before any request', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-probe-'));
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  try {
    // A namespace first, so that the catalog has an entry the probe reads a byte of.
    const first = await startSilt(s3Env(s3.endpoint, s3.bucket, dir));
    const put = await fetch(`${first.url}/v1/namespaces/probe`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vector_dim: 2 }),
    });
    assert.equal(put.status, 201, await put.text());
    assert.equal(await first.stop(), 0);

    const silt = await startSilt(s3Env(s3.endpoint, s3.bucket, dir));
    try {
      assert.ok(!warned(silt.logs), silt.logs.join('\n'));
      const stats = await (await fetch(`${silt.url}/stats`)).json() as { object_store_requests: Record<string, number> };
      assert.ok((stats.object_store_requests.list ?? 0) >= 1, JSON.stringify(stats.object_store_requests));
      assert.ok((stats.object_store_requests.get ?? 0) >= 1, JSON.stringify(stats.object_store_requests));
    } finally {
      assert.equal(await silt.stop(), 0);
    }
  } finally {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('with storage unreachable the node still listens, logs why, and is not ready', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-probe-down-'));
  try {
    const silt = await startSilt(s3Env(`http://127.0.0.1:${await closedPort()}`, 'absent', dir));
    try {
      assert.ok(warned(silt.logs), silt.logs.join('\n'));
      assert.equal((await fetch(`${silt.url}/health`)).status, 200);
      const ready = await fetch(`${silt.url}/ready`);
      assert.equal(ready.status, 503, await ready.text());
    } finally {
      await silt.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
