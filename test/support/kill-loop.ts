// Rounds of start → concurrent ingest → SIGKILL at a random moment → restart, on real Silt
// processes over one storage directory (or one S3 test server). Flush and compaction thresholds
// are tiny, so kills land during WAL puts, segment uploads, manifest commits, merges and GC.
// After every restart: every document acknowledged before the kill is there, and the namespace
// indexes again (a new write ends up in a segment, nothing stays unindexed). Used by
// test/integration/kill-loop.test.ts (a few rounds) and scripts/soak.ts (`npm run soak`).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { http, startSilt } from './silt-process.ts';
import { startS3Server } from './s3-server.ts';
import { rng } from './rng.ts';

const NS = 'soak';
const DIM = 8;
const BATCH = 25;
const WRITERS = 4;

export interface KillLoopOptions {
  rounds: number;
  seed: number;
  backend?: 'local' | 's3';
  /** Longest ingest before the kill, ms; the kill lands at a random moment before it. */
  maxIngestMs?: number;
  /** Re-read every acknowledged document at the end, not only those of each round after its kill. */
  finalFullCheck?: boolean;
  log?: (line: string) => void;
}

export interface KillLoopResult {
  rounds: number;
  acknowledged: number;
  segmentsAtEnd: number;
  manifestVersionAtEnd: number;
}

const doc = (id: number) => ({ id, vector: Array.from({ length: DIM }, (_, i) => Math.sin(id * 7 + i)), attributes: { n: id } });

export async function runKillLoop(opts: KillLoopOptions): Promise<KillLoopResult> {
  const r = rng(opts.seed);
  const log = opts.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'silt-kill-loop-'));
  const s3 = opts.backend === 's3' ? await startS3Server({ directory: join(dir, 's3') }) : null;
  const env: Record<string, string> = {
    SILT_CACHE_DISK_PATH: join(dir, 'cache'),
    SILT_INDEXING_FLUSH_DOCS: '300',
    SILT_INDEXING_FLUSH_INTERVAL_SECS: '1',
    SILT_INDEXING_HNSW_EF_CONSTRUCTION: '40',
    SILT_COMPACTION_MAX_SEGMENTS: '3',
    SILT_COMPACTION_INTERVAL_SECS: '1',
    SILT_COMPACTION_GC_GRACE_SECS: '0',
    ...(s3
      ? {
        SILT_STORAGE_BACKEND: 's3', SILT_STORAGE_S3_BUCKET: s3.bucket, SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
        SILT_STORAGE_S3_REGION: 'us-east-1', SILT_STORAGE_S3_WAL_PREFIX: 'soak', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }
      : { SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data') }),
  };
  const acked = new Set<number>();
  let nextId = 0;
  try {
    let silt = await startSilt(env);
    const created = await http(silt.url, 'PUT', `/v1/namespaces/${NS}`, { vector_dim: DIM, attributes: { n: { type: 'integer' } } });
    assert.equal(created.status, 201);
    for (let round = 1; round <= opts.rounds; round++) {
      const killAfterMs = 200 + Math.floor(r() * ((opts.maxIngestMs ?? 2500) - 200));
      const fresh = new Set<number>();
      let killed = false;
      const writer = async () => {
        while (!killed) {
          const ids = Array.from({ length: BATCH }, () => nextId++);
          const res = await http(silt.url, 'POST', `/v1/namespaces/${NS}/upsert`, { documents: ids.map(doc) }).catch(() => null);
          if (res === null) return; // the process is gone
          if (res.status === 200) ids.forEach((id) => fresh.add(id));
        }
      };
      const writers = Array.from({ length: WRITERS }, writer);
      await sleep(killAfterMs);
      killed = true;
      const before = await http(silt.url, 'GET', `/v1/namespaces/${NS}`).catch(() => null);
      await silt.kill();
      await Promise.all(writers);
      fresh.forEach((id) => acked.add(id));

      silt = await startSilt(env);
      const where = `round ${round} (seed ${opts.seed}, killed after ${killAfterMs} ms)`;
      // Everything acknowledged in this round, then a sample and the count of all earlier ones.
      const sample = [...acked].filter(() => r() < 0.05);
      await checkPresent(silt.url, [...fresh, ...sample], where);
      const info = await http(silt.url, 'GET', `/v1/namespaces/${NS}`);
      assert.equal(info.status, 200, where);
      assert.ok(info.body.documents >= acked.size, `${where}: ${info.body.documents} documents < ${acked.size} acknowledged`);
      await assertIndexesAgain(silt.url, where);
      log(`${where}: ${fresh.size} acknowledged (${acked.size} in all), manifest v${before?.body?.manifest_version ?? '?'} at the kill, ` +
        `${info.body.segments.length} segments after restart`);
    }
    if (opts.finalFullCheck) await checkPresent(silt.url, [...acked], 'at the end');
    const final = await http(silt.url, 'GET', `/v1/namespaces/${NS}`);
    assert.equal(await silt.stop(), 0);
    return { rounds: opts.rounds, acknowledged: acked.size, segmentsAtEnd: final.body.segments.length, manifestVersionAtEnd: final.body.manifest_version };
  } finally {
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function checkPresent(url: string, ids: number[], where: string): Promise<void> {
  const missing: number[] = [];
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(ids.slice(i, i + 32).map(async (id) => {
      const res = await http(url, 'GET', `/v1/namespaces/${NS}/documents/${id}`);
      if (res.status !== 200 || res.body.attributes.n !== id) missing.push(id);
    }));
  }
  assert.deepEqual(missing.slice(0, 10), [], `${where}: ${missing.length} acknowledged documents missing`);
}

/**
 * A namespace that can still commit folds a new write into a segment within a few flush
 * intervals; a wedged one never does (its tail only grows). The deadline is a liveness bound,
 * generous enough for a loaded machine, not a speed assertion.
 */
async function assertIndexesAgain(url: string, where: string): Promise<void> {
  const start = await http(url, 'GET', `/v1/namespaces/${NS}`);
  const probe = 10_000_000 + Math.floor(Math.random() * 1_000_000);
  assert.equal((await http(url, 'POST', `/v1/namespaces/${NS}/upsert`, { documents: [doc(probe)] })).status, 200, where);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await http(url, 'GET', `/v1/namespaces/${NS}`);
    if (info.body.unindexed_documents === 0 && info.body.manifest_version > start.body.manifest_version) return;
    assert.ok(Date.now() < deadline, `${where}: the namespace stopped indexing: ${JSON.stringify({ ...info.body, segments: info.body.segments.length })}`);
    await sleep(200);
  }
}
