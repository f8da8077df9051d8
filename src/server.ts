// The HTTP server: fastify with Silt's error mapping, body limits, health, and the routes of
// the roles this node plays.
import fastifyCompress from '@fastify/compress';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError, type FastifyRequest } from 'fastify';
import { Errors, SiltError } from './errors.ts';
import { parseConfig } from './config/index.ts';
import { edgeOptions, envelope, inflateRequestBodies, guardConnections, httpLimits, NDJSON_TYPE, refusedBody, REQUEST_ID, type HttpLimits } from './http-edge.ts';
import type { ObjectStore } from './storage/object-store.ts';
import { isStorageError } from './storage/errors.ts';
import { CATALOG_PREFIX } from './storage/layout.ts';
import type { NamespaceCatalog } from './indexer/catalog.ts';
import { registerWriteRoutes, UPSERT_ROUTE } from './indexer/routes.ts';
import { registerReadRoutes } from './namespace/routes.ts';
import { registerCompactionRoutes } from './compaction/routes.ts';
import { registerHistoryRoutes } from './indexer/history-routes.ts';
import type { QueryLimits } from './query/request.ts';
import type { DiskCacheStats, MemoryCacheStats } from './cache/index.ts';
import type { MemoryByKind } from './indexer/memory.ts';
import { registerClusterRouting, type RoutingOptions, type RoutingStats } from './cluster/routing.ts';
import { NodeMetrics, type Sample } from './metrics.ts';
import { NO_AUTH, registerAuth, type AuthOptions } from './auth.ts';
import { isTurbopufferPath, sendTurbopufferError } from './turbopuffer/http.ts';
import { registerTurbopufferRoutes } from './turbopuffer/routes.ts';
import { turbopufferRead } from './turbopuffer/read-routes.ts';
import { shortlistStats, type BuildPoolStats, type ScanPoolStats } from './segment/index.ts';
import type { UnindexedStats } from './indexer/backpressure.ts';
import { registerConsole } from './console/routes.ts';
import { NODE_OPERATIONS, openApiDocument } from './openapi/document.ts';
import { WRITE_OPERATIONS } from './indexer/openapi.ts';
import { READ_OPERATIONS } from './namespace/openapi.ts';
import { COMPACTION_OPERATIONS } from './compaction/openapi.ts';
import { HISTORY_OPERATIONS } from './indexer/history-openapi.ts';

/** GET /openapi.json: every native route's description, written beside its routes (src/openapi/). */
export const API_DOCUMENT = openApiDocument([...NODE_OPERATIONS, ...WRITE_OPERATIONS, ...READ_OPERATIONS, ...COMPACTION_OPERATIONS, ...HISTORY_OPERATIONS]);

/** What GET /stats reports and GET /metrics exposes. */
export interface NodeStats {
  node: string;
  role: 'single' | 'indexer' | 'query';
  object_store_requests: Record<string, number>;
  cache: { memory: MemoryCacheStats; disk: DiskCacheStats };
  namespaces_open: number;
  /** Owned namespaces closed after indexing.idle_close_secs without a request, since start. */
  namespaces_closed_idle_total: number;
  /** Owned namespaces closed, least recently used first, to stay within cache.memory_size, since start. */
  namespaces_closed_memory_total: number;
  /** Bytes by kind: owned namespaces' tails, segments and fixed overhead, views, the memory tier's parts, heap, RSS. */
  memory: MemoryByKind;
  namespace_views: number;
  /** Views dropped to stay within cache.max_views or their share of cache.memory_size, since start. */
  namespace_views_evicted_total: number;
  /** The segment build pool: threads, builds running and waiting. */
  builds: BuildPoolStats;
  /** Unindexed bytes of the namespaces open here, against indexing.node_unindexed_limit_bytes. */
  unindexed: UnindexedStats;
  /** The query pool (query.threads): threads alive, scan tasks run, tasks redone on the main thread; absent without a pool. */
  query_threads?: ScanPoolStats;
}

export { httpLimits, type HttpLimits } from './http-edge.ts';

export interface ServerDeps {
  catalog: NamespaceCatalog;
  store: ObjectStore;
  log: FastifyBaseLogger;
  bodyLimit: number;
  queryLimits: QueryLimits;
  nodeId: string;
  compaction: { max_segments: number; max_total_docs: number };
  /** Cluster routing; absent on a single node. */
  cluster?: RoutingOptions;
  stats: () => NodeStats;
  /** API keys and cluster token; absent = no keys. */
  auth?: AuthOptions;
  /** Timeouts and the connection cap of the HTTP server; the [server] defaults when absent. */
  http?: HttpLimits;
  /** The node's metrics registry (src/metrics.ts); a new one when absent. */
  metrics?: NodeMetrics;
  /** compaction.history_retention_secs: how far back restores may go; the default when absent. */
  historyRetentionSecs?: number;
}

export function buildServer(serverDeps: ServerDeps): FastifyInstance {
  const deps = { ...serverDeps, metrics: serverDeps.metrics ?? new NodeMetrics() };
  const { metrics } = deps;
  const http = deps.http ?? httpLimits(parseConfig('').server);
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
    ...edgeOptions(deps.nodeId, http, deps.log),
  });
  guardConnections(app, deps.nodeId, http, deps.log);
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  // Responses of 1 KiB or more are gzip-compressed for clients that accept it (brotli is not
  // offered: it costs more CPU per response than it saves on these JSON bodies); compressed
  // request bodies are inflated before the parsers below.
  inflateRequestBodies(app);
  void app.register(fastifyCompress, { encodings: ['gzip', 'deflate'], threshold: 1024 });

  // Bodies are JSON, whatever the content type, unless it says they are something else (refusedBody).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    const refused = refusedBody(req.headers['content-type'], req.headers['content-encoding']);
    if (refused) return done(Errors.contentType(refused), undefined);
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(Errors.invalidJson((e as Error).message), undefined);
    }
  });
  // The upsert route reads an NDJSON body itself, as it streams in (indexer/ndjson.ts).
  app.addContentTypeParser(NDJSON_TYPE, (req, payload, done) => {
    const refused = refusedBody(req.headers['content-type'], req.headers['content-encoding'], req.method === 'POST' && req.routeOptions.url === UPSERT_ROUTE);
    if (refused) return done(Errors.contentType(refused), undefined);
    done(null, payload);
  });

  // Forwarded responses keep the owner's x-silt-node: it names the node that handled the request.
  app.addHook('onSend', async (req, reply) => {
    if (!reply.hasHeader('x-silt-node')) reply.header('x-silt-node', deps.nodeId);
    reply.header(REQUEST_ID, req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const status = String(reply.statusCode);
    metrics.httpResponses.inc({ status });
    // The route's pattern, never the URL: one series per route, whatever the namespace or id.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ route, method: req.method, status }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError | SiltError | Error, request, reply) => {
    const silt = toSiltError(error, request, deps.bodyLimit);
    // The client's message names the namespace; object keys and storage errors go here only.
    if (silt.statusCode >= 500) request.log.error({ err: error, ...silt.logFields }, 'request failed');
    if (isTurbopufferPath(request.url)) return sendTurbopufferError(reply, silt);
    void reply.status(silt.statusCode).send(envelope(silt));
  });
  app.setNotFoundHandler((request, reply) => {
    const e = Errors.routeNotFound(request.method, request.url);
    if (isTurbopufferPath(request.url)) return sendTurbopufferError(reply, e);
    void reply.status(404).send(envelope(e));
  });

  // Before every route (each must be classified) and before cluster routing (checked, then relayed).
  registerAuth(app, deps.auth ?? NO_AUTH);
  let routing: RoutingStats | null = null;
  // Routes are added once the compression plugin has loaded, so that its onRoute hook sees each.
  void app.after(() => {
    app.get('/health', async () => ({ status: closing ? 'stopping' : 'ok', node: deps.nodeId }));
    // Ready when object storage answers and can take writes: a node that cannot reach it can acknowledge nothing.
    app.get('/ready', async () => {
      try {
        await deps.store.list(CATALOG_PREFIX, { maxKeys: 1 });
        await deps.store.checkWritable?.();
        return { status: 'ready', node: deps.nodeId };
      } catch (e) {
        const operation = isStorageError(e) ? e.operation : 'list';
        throw Errors.storageUnavailable(null, { operation, key: isStorageError(e) ? e.key : CATALOG_PREFIX, message: (e as Error).message });
      }
    });

    routing = deps.cluster ? registerClusterRouting(app, { ...deps.cluster, metrics, customReads: turbopufferRead }) : null;
    app.get('/stats', async () => ({ ...deps.stats(), routing }));
    metrics.sampled(() => metricSamples(deps.stats(), routing, nodeTotals(deps.catalog)));
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.render();
    });
    // Behind the API keys like the API it describes (any key): it says which routes exist, nothing more.
    app.get('/openapi.json', async () => API_DOCUMENT);

    registerWriteRoutes(app, deps);
    registerReadRoutes(app, deps);
    registerCompactionRoutes(app, deps);
    registerTurbopufferRoutes(app, deps);
    registerHistoryRoutes(app, deps);
    registerConsole(app);
  });
  return app;
}

/** Sums over the namespaces this node owns and has open. */
function nodeTotals(catalog: NamespaceCatalog): { documents: number; segments: number; oldestWriteAt: number | null } {
  let documents = 0;
  let segments = 0;
  let oldestWriteAt: number | null = null;
  for (const ns of catalog.openNamespaces()) {
    documents += ns.memtable.size;
    segments += ns.segments.length;
    const at = ns.state.oldestUnindexedAt;
    if (at !== null && (oldestWriteAt === null || at < oldestWriteAt)) oldestWriteAt = at;
  }
  return { documents, segments, oldestWriteAt };
}

function metricSamples(stats: NodeStats, routing: RoutingStats | null, totals: ReturnType<typeof nodeTotals>): Sample[] {
  const tiers = (pick: (s: MemoryCacheStats | DiskCacheStats) => number) =>
    [{ labels: { tier: 'memory' }, value: pick(stats.cache.memory) }, { labels: { tier: 'disk' }, value: pick(stats.cache.disk) }];
  const samples: Sample[] = [
    { name: 'silt_object_store_requests_total', help: 'Object-store requests made, by operation.', type: 'counter',
      values: Object.entries(stats.object_store_requests).map(([op, value]) => ({ labels: { op }, value })) },
    { name: 'silt_cache_hits_total', help: 'Cache hits, by tier.', type: 'counter', values: tiers((s) => s.hits) },
    { name: 'silt_cache_misses_total', help: 'Cache misses, by tier.', type: 'counter', values: tiers((s) => s.misses) },
    { name: 'silt_cache_evictions_total', help: 'Cache entries evicted to stay within the size bound, by tier.', type: 'counter', values: tiers((s) => s.evictions) },
    { name: 'silt_cache_bytes', help: 'Bytes held by the cache, by tier.', type: 'gauge', values: tiers((s) => s.bytes) },
    { name: 'silt_cache_max_bytes', help: 'Configured size bound of the cache, by tier.', type: 'gauge', values: tiers((s) => s.max_bytes) },
    { name: 'silt_cache_entries', help: 'Entries held by the cache, by tier.', type: 'gauge', values: tiers((s) => s.entries) },
    { name: 'silt_namespaces_open', help: 'Namespaces this node owns and has open.', type: 'gauge', values: stats.namespaces_open },
    { name: 'silt_namespace_views', help: 'Read-only views of namespaces owned by other nodes.', type: 'gauge', values: stats.namespace_views },
    { name: 'silt_namespaces_closed_idle_total', help: 'Owned namespaces closed for idleness (indexing.idle_close_secs).', type: 'counter', values: stats.namespaces_closed_idle_total },
    { name: 'silt_namespaces_closed_memory_total', help: 'Owned namespaces closed, least recently used first, to stay within cache.memory_size.', type: 'counter', values: stats.namespaces_closed_memory_total },
    { name: 'silt_memory_bytes', help: 'Memory by kind: owned namespaces\' tails, segments and fixed overhead and views (estimates), the memory tier by part (readers, clusters), V8 heap used, ArrayBuffers outside the heap, RSS.', type: 'gauge',
      values: Object.entries(stats.memory).map(([kind, value]) => ({ labels: { kind }, value })) },
    { name: 'silt_namespace_views_evicted_total', help: 'Views dropped to stay within cache.max_views or their share of cache.memory_size.', type: 'counter', values: stats.namespace_views_evicted_total },
    { name: 'silt_build_threads', help: 'Segment build threads alive.', type: 'gauge', values: stats.builds.threads },
    { name: 'silt_build_threads_max', help: 'Size of the segment build pool (indexing.build_threads).', type: 'gauge', values: stats.builds.max_threads },
    { name: 'silt_builds_active', help: 'Segment builds (flush or merge) running.', type: 'gauge', values: stats.builds.active },
    { name: 'silt_builds_queued', help: 'Segment builds waiting for a build thread.', type: 'gauge', values: stats.builds.queued },
    { name: 'silt_builds_total', help: 'Segment builds finished, by outcome.', type: 'counter',
      values: [{ labels: { outcome: 'ok' }, value: stats.builds.completed }, { labels: { outcome: 'failed' }, value: stats.builds.failed }] },
    { name: 'silt_unindexed_bytes', help: 'Bytes written but not yet indexed, all namespaces open on this node.', type: 'gauge', values: stats.unindexed.unindexed_bytes },
    { name: 'silt_unindexed_documents', help: 'Documents written but not yet indexed (the tails), all namespaces open on this node.', type: 'gauge', values: totals.documents },
    { name: 'silt_segments', help: 'Segments of the namespaces open on this node.', type: 'gauge', values: totals.segments },
    { name: 'silt_index_lag_seconds', help: 'Age of the oldest write not yet indexed on this node; 0 when every write is indexed.', type: 'gauge',
      values: totals.oldestWriteAt === null ? 0 : Math.max(0, (Date.now() - totals.oldestWriteAt) / 1000) },
    { name: 'silt_unindexed_limit_bytes', help: 'Unindexed bytes at which writes get 429 (indexing.node_unindexed_limit_bytes).', type: 'gauge', values: stats.unindexed.unindexed_limit_bytes },
  ];
  const q = stats.query_threads ?? { threads: 0, max_threads: 0, tasks: 0, fallbacks: 0 };
  const shortlist = shortlistStats();
  samples.push(
    { name: 'silt_query_threads', help: 'Query pool threads alive (query.threads): IVF code scans off the main thread.', type: 'gauge', values: q.threads },
    { name: 'silt_query_scan_tasks_total', help: 'IVF scan tasks sent to the query pool, by outcome (fallback: redone on the main thread after a worker failed or timed out).', type: 'counter',
      values: [{ labels: { outcome: 'ok' }, value: q.tasks - q.fallbacks }, { labels: { outcome: 'fallback' }, value: q.fallbacks }] },
    { name: 'silt_centroid_shortlists_total', help: 'Centroid rankings on the main thread that a native shortlist served (used), or could not prove complete and ranked over all centroids instead (refused).', type: 'counter',
      values: [{ labels: { outcome: 'used' }, value: shortlist.used }, { labels: { outcome: 'refused' }, value: shortlist.refused }] },
  );
  if (routing) {
    samples.push(
      { name: 'silt_forwarded_total', help: 'Requests forwarded to the owning indexer.', type: 'counter', values: routing.forwarded },
      { name: 'silt_forward_failures_total', help: 'Forwarded requests whose owner did not answer.', type: 'counter', values: routing.forwardFailures },
      { name: 'silt_served_from_storage_total', help: 'Reads served from object storage because the owner did not answer.', type: 'counter', values: routing.servedFromStorage },
      { name: 'silt_served_eventual_total', help: 'consistency "eventual" queries served from the local view.', type: 'counter', values: routing.servedEventual },
    );
  }
  return samples;
}

function toSiltError(error: unknown, request: FastifyRequest, bodyLimit: number): SiltError {
  if (error instanceof SiltError) return error;
  const e = error as FastifyError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Errors.bodyTooLarge(bodyLimit);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return Errors.contentType(`content-type '${String(request.headers['content-type']).slice(0, 80)}' is not a media type`);
  }
  if (e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return Errors.requestMalformed('the body length differs from its content-length');
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) return Errors.invalidJson(e.message);
  if (isStorageError(error)) return Errors.storageUnavailable(null, error);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SiltError('SILT_ERR_REQUEST_INVALID', e.statusCode, e.message);
  }
  return Errors.internal(e.message ?? String(error));
}
