// An in-process Silt server over a given object store, for API tests through fastify.inject.
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AuthOptions } from '../../src/auth.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { buildServer, type HttpLimits, type NodeStats } from '../../src/server.ts';
import { Topology } from '../../src/cluster/topology.ts';
import { ViewCatalog } from '../../src/cluster/view.ts';
import { MemoryCache } from '../../src/cache/index.ts';
import type { ReaderOptions, SegmentReader } from '../../src/segment/index.ts';
import { BuildPool } from '../../src/segment/index.ts';
import type { IndexingOptions } from '../../src/indexer/namespace.ts';
import { NodeMetrics } from '../../src/metrics.ts';
import { memoryByKind } from '../../src/indexer/memory.ts';

export interface TestApp {
  app: FastifyInstance;
  store: ObjectStore;
  catalog: NamespaceCatalog;
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
}

export const TEST_INDEXING: IndexingOptions = {
  flush_docs: 1_000_000, flush_bytes: 1 << 30, flush_interval_secs: 3600, idle_flush_secs: 0,
  hnsw_m: 16, hnsw_ef_construction: 100, hnsw_ef_search: 64, ivf_min_rows: 10_000,
  build_threads: 2, build_nice: 0, unindexed_limit_bytes: 2 ** 30, node_unindexed_limit_bytes: 2 ** 31, backpressure_retry_after_secs: 5,
  idle_close_secs: 300,
};

/**
 * The build pool of every test that does not bring its own: it starts threads only when a build
 * needs one, and idle threads do not keep a test process alive.
 */
export const TEST_BUILDS = new BuildPool({ threads: 2 });

const EMPTY_CACHE = { entries: 0, bytes: 0, max_bytes: 0, hits: 0, misses: 0, evictions: 0, write_errors: 0 };

export function testApp(opts: {
  store?: ObjectStore; bodyLimit?: number; maxTopK?: number; auth?: AuthOptions; log?: FastifyBaseLogger; http?: HttpLimits;
  indexing?: Partial<IndexingOptions>; builds?: BuildPool; now?: () => number; memoryBudget?: number;
  /** This server's reader caches and query pool; the segment layer's defaults when absent. */
  readerOptions?: ReaderOptions;
} = {}): TestApp {
  const store = opts.store ?? new MemoryObjectStore();
  const builds = opts.builds ?? TEST_BUILDS;
  const metrics = new NodeMetrics();
  if (store instanceof CountingObjectStore) store.timeWith(metrics.storeRequests);
  const catalog = new NamespaceCatalog({
    store, maxBatchBytes: 64 << 20, indexing: { ...TEST_INDEXING, ...opts.indexing }, tmpDir: tmpdir(), builds, metrics,
    ...(opts.readerOptions ? { readerOptions: opts.readerOptions } : {}),
  }, opts.now);
  if (opts.memoryBudget !== undefined) catalog.memoryBudget = () => opts.memoryBudget!;
  const app = buildServer({
    catalog,
    store,
    log: opts.log ?? pino({ level: 'silent' }),
    ...(opts.auth ? { auth: opts.auth } : {}),
    bodyLimit: opts.bodyLimit ?? 64 << 20,
    queryLimits: { default_top_k: 10, max_top_k: opts.maxTopK ?? 1000 },
    nodeId: 'test',
    compaction: { max_segments: 4, max_total_docs: 1_000_000 },
    ...(opts.http ? { http: opts.http } : {}),
    metrics,
    stats: () => ({
      node: 'test', role: 'single', object_store_requests: store instanceof CountingObjectStore ? store.counts() : {}, namespaces_open: catalog.openNamespaces().length, namespace_views: 0,
      namespaces_closed_idle_total: catalog.closedIdleTotal, namespace_views_evicted_total: 0,
      namespaces_closed_memory_total: catalog.closedMemoryTotal, memory: memoryByKind(catalog.memory(), 0),
      cache: { memory: EMPTY_CACHE, disk: EMPTY_CACHE },
      builds: builds.stats(), unindexed: catalog.admission.nodeStats(),
    }),
  });
  return {
    app,
    store,
    catalog,
    async call(method, url, body, headers = {}) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const json = res.body && (res.headers['content-type'] ?? '').toString().includes('json');
      return { status: res.statusCode, body: json ? JSON.parse(res.body) : res.body || null, headers: res.headers };
    },
  };
}

export { rng } from './rng.ts';

/**
 * A query node 'query-1' in front of `owner` (listening at ownerUrl), which owns every namespace:
 * requests are relayed to it, and reads fall back to views over the owner's store.
 */
export function queryNode(owner: TestApp, ownerUrl: string, opts: { forwardTimeoutMs?: number; stats?: () => NodeStats } = {}): FastifyInstance {
  const timeout = opts.forwardTimeoutMs ?? 5000;
  return buildServer({
    catalog: owner.catalog, store: owner.store, log: pino({ level: 'silent' }), bodyLimit: 1 << 20,
    queryLimits: { default_top_k: 10, max_top_k: 100 }, nodeId: 'query-1', compaction: { max_segments: 4, max_total_docs: 1000 },
    cluster: {
      topology: new Topology('query-1', 'query', [{ id: 'indexer-1', url: ownerUrl }]),
      views: new ViewCatalog({ store: owner.store, tmpDir: tmpdir(), readers: new MemoryCache<SegmentReader>(1 << 20), defaultEf: 64 }),
      bodyLimit: 1 << 20, queryLimits: { default_top_k: 10, max_top_k: 100 },
      forwardTimeoutMs: timeout, writeForwardTimeoutMs: timeout, eventualMaxStalenessMs: 0,
    },
    stats: opts.stats ?? (() => { throw new Error('not asked'); }),
  });
}
