// The query pool in a real server process: IVF scans go to worker threads (query.threads), the
// answers are the ones the main thread gives (filters and deleted rows included), the threads
// start at the first query, /stats and /metrics show them, and the server stops with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, startSilt } from '../support/silt-process.ts';

const DIM = 8;
const ROWS = 6000;

function envOf(dir: string, threads: number): Record<string, string> {
  return {
    SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'root'),
    SILT_CACHE_DISK_PATH: join(dir, 'cache'),
    SILT_INDEXING_FLUSH_INTERVAL_SECS: '86400',
    SILT_INDEXING_IVF_MIN_ROWS: '1000',
    SILT_COMPACTION_ENABLED: 'false',
    SILT_QUERY_THREADS: String(threads),
  };
}

const QUERIES = Array.from({ length: 6 }, (_, q) => Array.from({ length: DIM }, (_, d) => Math.cos(q * 7 + d)));
const BODIES = QUERIES.flatMap((vector) => [
  { vector, top_k: 10 },
  { vector, top_k: 10, filter: { field: 'n', op: 'lt', value: 2000 } },
]);

async function answers(url: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const body of BODIES) {
    const res = await http(url, 'POST', '/v1/namespaces/p/query', { ...body, include_attributes: false });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(res.body.results);
  }
  return out;
}

test('queries over an IVF segment answer the same with the query pool on and off; /stats shows its threads; the server stops with them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-query-threads-'));
  try {
    const loader = await startSilt(envOf(dir, 1));
    try {
      assert.equal((await http(loader.url, 'PUT', '/v1/namespaces/p', { vector_dim: DIM, vector_metric: 'l2', attributes: { n: { type: 'integer' } } })).status, 201);
      for (let from = 0; from < ROWS; from += 1000) {
        const documents = Array.from({ length: 1000 }, (_, i) => ({
          id: from + i,
          vector: Array.from({ length: DIM }, (_, d) => Math.sin((from + i) * 13 + d * 3)),
          attributes: { n: from + i },
        }));
        assert.equal((await http(loader.url, 'POST', '/v1/namespaces/p/upsert', { documents })).status, 200);
      }
      assert.equal((await http(loader.url, 'POST', '/v1/namespaces/p/flush')).status, 200);
      // Deleted rows of the segment: the scan skips them on either thread.
      const ids = Array.from({ length: 600 }, (_, i) => i * 10);
      assert.equal((await http(loader.url, 'POST', '/v1/namespaces/p/delete', { ids })).status, 200);
      assert.equal((await http(loader.url, 'POST', '/v1/namespaces/p/flush')).status, 200);
    } finally {
      await loader.stop();
    }

    const main = await startSilt(envOf(dir, 1));
    const expected = await answers(main.url);
    const stats = await http(main.url, 'GET', '/stats');
    assert.equal(stats.body.query_threads, undefined, 'query.threads = 1: no pool');
    assert.equal(await main.stop(), 0);

    const pooled = await startSilt(envOf(dir, 2));
    let stopped = false;
    try {
      const idle = (await http(pooled.url, 'GET', '/stats')).body.query_threads;
      assert.deepEqual([idle.threads, idle.max_threads], [0, 2], 'no query yet: the pool has started no thread');
      const pool = async () => (await http(pooled.url, 'GET', '/stats')).body.query_threads;
      // The first queries are answered here while the threads load (scan-pool.ts): the same results.
      assert.deepEqual(await answers(pooled.url), expected);
      for (const until = Date.now() + 60_000; (await pool()).tasks === 0;) {
        assert.ok(Date.now() < until, 'the threads took over within a minute');
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(await answers(pooled.url), expected);
      }
      const before = (await pool()).tasks;
      assert.deepEqual(await answers(pooled.url), expected);
      const q = await pool();
      assert.equal(q.threads, 2);
      assert.equal(q.max_threads, 2);
      // The filtered queries match few enough rows to be searched exactly (no scan); filters inside
      // the scan are covered by test/segment/scan-pool.test.ts.
      assert.ok(q.tasks - before >= QUERIES.length * 2, `every unfiltered query's scan was split over the threads (${q.tasks - before} tasks)`);
      assert.equal(q.fallbacks, 0);
      const metrics = String((await fetch(`${pooled.url}/metrics`).then((r) => r.text())));
      assert.match(metrics, /^silt_query_threads 2$/m);
      assert.equal(await pooled.stop(), 0, 'a clean shutdown, pool included');
      stopped = true;
      assert.ok(pooled.logs.some((l) => l.includes('shutdown complete')));
    } finally {
      if (!stopped) await pooled.kill();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
