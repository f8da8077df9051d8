// An in-process Silt server over a given object store, for API tests through fastify.inject.
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { buildServer, type HttpLimits } from '../../src/server.ts';

export interface TestApp {
  app: FastifyInstance;
  store: ObjectStore;
  catalog: NamespaceCatalog;
  call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export const TEST_INDEXING = {
  flush_docs: 1_000_000, flush_bytes: 1 << 30, flush_interval_secs: 3600,
  hnsw_m: 16, hnsw_ef_construction: 100, hnsw_ef_search: 64,
};

const EMPTY_CACHE = { entries: 0, bytes: 0, max_bytes: 0, hits: 0, misses: 0, evictions: 0, write_errors: 0 };

export function testApp(opts: { store?: ObjectStore; bodyLimit?: number; maxTopK?: number; http?: HttpLimits; log?: FastifyBaseLogger } = {}): TestApp {
  const store = opts.store ?? new MemoryObjectStore();
  const catalog = new NamespaceCatalog({ store, maxBatchBytes: 64 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir() });
  const app = buildServer({
    catalog,
    store,
    log: opts.log ?? pino({ level: 'silent' }),
    bodyLimit: opts.bodyLimit ?? 64 << 20,
    queryLimits: { default_top_k: 10, max_top_k: opts.maxTopK ?? 1000 },
    nodeId: 'test',
    compaction: { max_segments: 4, max_total_docs: 1_000_000 },
    ...(opts.http ? { http: opts.http } : {}),
    stats: () => ({
      node: 'test', role: 'single', object_store_requests: {}, namespaces_open: catalog.openNamespaces().length, namespace_views: 0,
      cache: { memory: EMPTY_CACHE, disk: EMPTY_CACHE },
    }),
  });
  return {
    app,
    store,
    catalog,
    async call(method, url, body) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
    },
  };
}

export { rng } from './rng.ts';
