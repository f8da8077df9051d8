// A node's warm-up before it listens: the path of a cold first query, run a few times over a
// small namespace of its own in memory, so that the first real query does not also pay for V8
// running that code for the first time (interpreted, then compiled as it gets hot).
//
// Measured before it (in process, a 1M namespace on the S3 test server, 5 cold open + first
// query runs over fresh catalogs and caches in one process): the first 291–359 ms, the later
// ones 166–256 ms (docs/benchmarks.md, "scale", runs K and L): a fresh process's first query paid
// ≈ 100 ms for its code, beside its object-store round trips.
//
// What runs: the node's routes over a catalog of its own on a MemoryObjectStore (nothing of the
// node's storage is touched), requests injected (no socket): a namespace written and flushed
// into one IVF segment and one text field (built in this thread: 1,000 rows take milliseconds,
// where a build thread would cost its start), then closed and reopened by a query, as a cold
// query reopens one (the manifest pointer's routes, the open's prefetch), and vector, text,
// hybrid and filtered queries, four rounds (two warmed less in a first in-process trial).
//
// Measured with it (docs/benchmarks.md, "scale", "Run N and the warm-up"; a 300k namespace on
// local storage, in process, fresh processes alternating, 5 each): the first cold open + query
// 191.6 → 145.3 ms (medians); queries after it as fast as without. Its cost is at the start: a
// node from the sources (tsx) started in 2.2–3.2 s with it, 1.4–1.5 s without (3 each, idle).
import { tmpdir } from 'node:os';
import type { IndexingOptions } from './indexer/namespace.ts';
import type { FastifyBaseLogger } from 'fastify';
import { NamespaceCatalog } from './indexer/catalog.ts';
import { buildServer } from './server.ts';
import { buildSegmentSync } from './segment/builder.ts';
import { MemoryBudget } from './cache/memory-budget.ts';
import type { IvfCacheEntry, ReaderOptions, ScanPool, SegmentBuilds, TextPart } from './segment/index.ts';
import { seededRandom } from './segment/kmeans.ts';
import { MemoryObjectStore } from './storage/memory.ts';

const ROWS = 1_000;
const DIM = 32;
/** Cold opens, each followed by 6 queries: V8 compiles a function once it has run often enough (2 rounds warmed less, 4 as much as 8, in process). */
const ROUNDS = 4;
const WORDS = ['river', 'silt', 'delta', 'stone', 'water', 'bank', 'flood', 'plain', 'clay', 'sand', 'reed', 'shore'];
const LIMITS = { default_top_k: 10, max_top_k: 1000 };
const CACHE_BYTES = 8 * 2 ** 20;

/** Builds in this thread: the warm-up's one small flush. */
const inThread: SegmentBuilds = {
  backlogThreads: 1,
  build: async (prepare) => {
    const input = await prepare();
    return input === null ? null : buildSegmentSync(input);
  },
};

/**
 * Runs the warm-up through a server of its own (the node's routes, its own catalog, injected
 * requests: no socket, nothing of the node's storage), on the node's query pool (`scans`: its
 * threads run their scan code too), with caches of its own of the memory tier's kind, so that
 * nothing of it stays in the node's; how long it took (ms).
 */
export async function warmUp(indexing: IndexingOptions, log: FastifyBaseLogger, scans: ScanPool | null = null): Promise<number> {
  const t0 = performance.now();
  // The pool's threads start with its first task and take scans once loaded (from the sources,
  // under tsx, that took 2.5 s at a node's start here): the warm-up does not wait for them, and
  // its scans reach them only if they are ready.
  const rand = seededRandom(17);
  const tier = new MemoryBudget(CACHE_BYTES);
  const readerOptions: ReaderOptions = { clusterCache: tier.cache<IvfCacheEntry>('clusters'), textCache: tier.cache<TextPart>('postings'), scans };
  const store = new MemoryObjectStore();
  const catalog = new NamespaceCatalog({
    store, maxBatchBytes: 64 << 20, tmpDir: tmpdir(), builds: inThread, readerOptions,
    // An IVF segment of ≈ 4 clusters, as large segments are; no merges, no timed flushes.
    indexing: { ...indexing, ivf_min_rows: ROWS / 2, flush_docs: Number.MAX_SAFE_INTEGER, flush_interval_secs: 1e9, idle_flush_secs: 0, idle_close_secs: 1e9 },
  });
  const app = buildServer({
    catalog, store, log: log.child({}, { level: 'silent' }), bodyLimit: 64 << 20, queryLimits: LIMITS, nodeId: 'warm-up',
    compaction: { max_segments: 4, max_total_docs: ROWS * 2 },
    stats: () => { throw new Error('the warm-up server has no /stats'); },
  });
  const call = async (method: 'PUT' | 'POST', url: string, body: unknown) => {
    const res = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    if (res.statusCode >= 300) throw new Error(`warm-up ${method} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  };
  try {
    const name = 'warm-up';
    const path = `/v1/namespaces/${name}`;
    await call('PUT', path, { vector_dim: DIM, vector_metric: 'cosine', attributes: { text: { type: 'string', full_text: true }, n: { type: 'integer' } } });
    const vectors = Array.from({ length: ROWS }, () => Array.from({ length: DIM }, () => rand() * 2 - 1));
    const sentence = () => Array.from({ length: 4 + Math.floor(rand() * 8) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    await call('POST', `${path}/upsert`, { documents: vectors.map((vector, id) => ({ id, vector, attributes: { text: sentence(), n: id } })) });
    await call('POST', `${path}/flush`, {});
    for (let round = 0; round < ROUNDS; round++) {
      // Closed, so that the first query reopens it as a cold query does (the pointer's routes, the prefetch).
      await catalog.evict(await catalog.get(name));
      const vector = vectors[(round * 97) % ROWS]!;
      const word = (i: number) => WORDS[(round + i) % WORDS.length]!;
      for (const body of [
        { vector, top_k: 10 },
        { vector, top_k: 10, ef: 256 },
        { vector, top_k: 10, filter: { field: 'n', op: 'lt', value: ROWS / 2 } },
        { full_text: { field: 'text', query: `${word(0)} ${word(5)}` }, top_k: 10 },
        { vector, full_text: { field: 'text', query: word(0) }, top_k: 10 },
        { vector, top_k: 5, include_vector: true },
      ]) await call('POST', `${path}/query`, body);
    }
  } finally {
    await app.close();
    await catalog.close(new Error('warm-up finished'));
  }
  return performance.now() - t0;
}
