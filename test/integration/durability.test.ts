// Acknowledged writes survive SIGKILL: a real Silt process is killed mid-ingest and restarted,
// on local storage and on S3 (a real S3-protocol server on 127.0.0.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, startSilt } from '../support/silt-process.ts';
import { startS3Server } from '../support/s3-server.ts';

const DIM = 16;
const BATCH = 100;
const WRITERS = 6;

function doc(id: number) {
  return {
    id,
    vector: Array.from({ length: DIM }, (_, i) => Math.sin(id * 31 + i)),
    attributes: { title: `document number ${id}`, n: id },
  };
}

/** Whether the tail has been folded into at least one segment (so the crash hits a real layout). */
async function hasSegments(url: string): Promise<boolean> {
  const info = await http(url, 'GET', '/v1/namespaces/durable').catch(() => null);
  return (info?.body?.segments?.length ?? 0) > 0;
}

/** Upserts from several concurrent writers until killed; returns the ids whose upsert was acknowledged. */
async function ingestUntilKilled(url: string, kill: () => Promise<void>, killAfterAcked: number): Promise<Set<number>> {
  const acked = new Set<number>();
  let next = 0;
  let killed = false;
  const writer = async () => {
    while (!killed) {
      const ids = Array.from({ length: BATCH }, () => next++);
      try {
        const res = await http(url, 'POST', '/v1/namespaces/durable/upsert', { documents: ids.map(doc) });
        if (res.status === 200) ids.forEach((id) => acked.add(id));
      } catch {
        return; // connection refused or reset: the process is gone
      }
      if (!killed && acked.size >= killAfterAcked && (await hasSegments(url))) {
        killed = true;
        await kill();
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
  return acked;
}

async function checkAll(url: string, acked: Set<number>) {
  const info = await http(url, 'GET', '/v1/namespaces/durable');
  assert.equal(info.status, 200);
  assert.ok(info.body.documents >= acked.size, `${info.body.documents} documents < ${acked.size} acknowledged`);
  const ids = [...acked];
  const missing: number[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(ids.slice(i, i + 50).map(async (id) => {
      const res = await http(url, 'GET', `/v1/namespaces/durable/documents/${id}`);
      if (res.status !== 200 || res.body.attributes.n !== id) missing.push(id);
    }));
  }
  assert.deepEqual(missing, [], `acknowledged documents missing after restart: ${missing.slice(0, 10).join(', ')}`);
  // Vectors of this generator repeat nearly exactly (31·Δid close to a multiple of 2π), so ask for
  // a few and check the document is among its nearest, at distance ~0.
  const q = await http(url, 'POST', '/v1/namespaces/durable/query', { vector: doc(ids[0]!).vector, top_k: 10 });
  const hit = q.body.results.find((r: { id: number }) => r.id === ids[0]);
  assert.ok(hit && hit.distance < 1e-5, `document ${ids[0]} among the nearest to its own vector`);
}

async function crashAndRecover(baseEnv: Record<string, string>) {
  // Small thresholds so the tail is folded into segments and merged while writes go on: the
  // crash then lands between WAL, segment and manifest writes.
  const env = {
    ...baseEnv,
    SILT_INDEXING_FLUSH_DOCS: '700',
    SILT_INDEXING_FLUSH_INTERVAL_SECS: '1',
    SILT_COMPACTION_MAX_SEGMENTS: '3',
    SILT_COMPACTION_GC_GRACE_SECS: '0',
  };
  let silt = await startSilt(env);
  const created = await http(silt.url, 'PUT', '/v1/namespaces/durable', {
    vector_dim: DIM, vector_metric: 'cosine',
    attributes: { title: { type: 'string', full_text: true }, n: { type: 'integer' } },
  });
  assert.equal(created.status, 201);
  const first = silt;
  const acked = await ingestUntilKilled(silt.url, () => first.kill(), 3000);
  assert.ok(acked.size >= 3000);
  silt = await startSilt(env);
  try {
    await checkAll(silt.url, acked);
    const info = await http(silt.url, 'GET', '/v1/namespaces/durable');
    assert.ok(info.body.segments.length > 0, 'segments written before the crash are loaded');
    // The restarted node keeps accepting writes after the replayed tail.
    const more = await http(silt.url, 'POST', '/v1/namespaces/durable/upsert', { documents: [doc(1_000_000)] });
    assert.equal(more.status, 200);
  } finally {
    await silt.kill();
  }
  // And a clean SIGTERM shutdown exits 0 and keeps everything too.
  silt = await startSilt(env);
  assert.equal((await http(silt.url, 'GET', '/v1/namespaces/durable/documents/1000000')).status, 200);
  assert.equal(await silt.stop(), 0);
}

test('SIGKILL during ingest loses no acknowledged write (local storage)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-durable-'));
  try {
    await crashAndRecover({ SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SIGKILL during ingest loses no acknowledged write (S3 backend)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-durable-s3-'));
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  try {
    await crashAndRecover({
      SILT_STORAGE_BACKEND: 's3',
      SILT_STORAGE_S3_BUCKET: s3.bucket,
      SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
      SILT_STORAGE_S3_REGION: 'us-east-1',
      SILT_STORAGE_S3_WAL_PREFIX: 'durability',
      SILT_CACHE_DISK_PATH: join(dir, 'cache'),
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
  } finally {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
