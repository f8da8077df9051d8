// Composition root: argv → config → storage and caches → the node's role → server.
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Maintenance } from './compaction/maintenance.ts';
import { checkExposure, loadConfig, ConfigError, type SiltConfig } from './config/index.ts';
import { CachedObjectStore, createObjectStore } from './storage/index.ts';
import { NamespaceCatalog } from './indexer/catalog.ts';
import { probeStorage } from './storage/probe.ts';
import { warmUp } from './warm-up.ts';
import { buildServer, httpLimits } from './server.ts';
import { createLogger } from './logging.ts';
import { Errors } from './errors.ts';
import { DiskCache, MemoryBudget } from './cache/index.ts';
import { Topology } from './cluster/topology.ts';
import { ViewCatalog } from './cluster/view.ts';
import { flushAll, SHUTDOWN_FLUSH_CONCURRENCY } from './indexer/flush-all.ts';
import { authOptions } from './auth.ts';
import { BuildPool, backlogThreads, buildThreads, queryThreads, ScanPool, type IvfCacheEntry, type ReaderOptions, type SegmentReader, type TextPart } from './segment/index.ts';
import { NodeMetrics } from './metrics.ts';
import { memoryByKind } from './indexer/memory.ts';
import { enableCollections } from './segment/collect.ts';

/** How long a node waits for object storage to answer before it listens anyway (and logs why). */
const STORAGE_PROBE_MS = 5_000;

function resolvePaths(config: SiltConfig): SiltConfig {
  return {
    ...config,
    storage: { ...config.storage, local: { root_path: resolve(config.storage.local.root_path) } },
    cache: { ...config.cache, disk_path: resolve(config.cache.disk_path) },
  };
}

async function main(): Promise<void> {
  let config: SiltConfig;
  try {
    config = resolvePaths(loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd() }));
    const exposure = checkExposure(config);
    if (exposure.length > 0) throw new ConfigError(exposure);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`silt: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const nodeId = config.distributed.node_id || 'silt';
  const log = createLogger(config.logging, nodeId);
  const role = config.distributed.enabled ? config.distributed.role : 'single';
  // The node's metrics registry, handed to whatever observes a metric (src/metrics.ts).
  const metrics = new NodeMetrics();
  // Merges' and closes' dead buffers go back to the OS soon after, on this thread and the build
  // threads (src/segment/collect.ts): enabled before the build pool starts its threads.
  if (!enableCollections()) log.warn('V8 refused --expose-gc: memory freed by merges returns to the OS only at its next collection');
  // A local root is made at start, so that one missing later (deleted under the node) fails /ready.
  if (config.storage.backend === 'local') await mkdir(config.storage.local.root_path, { recursive: true });
  const store = createObjectStore(config.storage).timeWith(metrics.storeRequests);
  const tmpDir = join(config.cache.disk_path, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  // Disk tier: immutable object bytes (segment sections, WAL objects), kept across restarts.
  const disk = await DiskCache.open({ dir: join(config.cache.disk_path, 'objects'), maxBytes: config.cache.disk_size });
  // One budget of cache.memory_size for the namespaces this node has open (owned and views) and
  // the memory tier under them (cache/memory-budget.ts says how it is shared).
  const budget = new MemoryBudget(config.cache.memory_size);
  // Memory tier: decoded segments of namespaces this node serves as views (not the ones it owns),
  // and the decoded IVF codes blocks and vector records of every open segment, owner's and views'
  // alike (ivf-reader.ts).
  const readers = budget.cache<SegmentReader>('readers');
  const clusterCache = budget.cache<IvfCacheEntry>('clusters');
  // Decoded text dictionary blocks and postings of every open segment (text/block-reader.ts).
  const textCache = budget.cache<TextPart>('postings');
  // Reads of immutable objects through the disk tier (storage/cached.ts). On local storage the
  // objects are local files already: copying them into the cache would only double the disk
  // they take, so the owner reads them directly there; views always read through the cache.
  const cached = new CachedObjectStore(store, disk);
  const ownerStore = config.storage.backend === 's3' ? cached : store;
  // Every segment build of the node (flush and merge, all namespaces) runs on this one pool.
  const builds = new BuildPool({ threads: buildThreads(config.indexing.build_threads), backlogThreads: backlogThreads(config.indexing.build_threads), nice: config.indexing.build_nice });
  // IVF code scans of every query run on this pool (docs/architecture.md, "Queries on every core").
  const scanThreads = queryThreads(config.query.threads);
  const scans = scanThreads > 0 ? new ScanPool({ threads: scanThreads }) : null;
  // What every segment reader of the node shares, the owner's and the views' alike.
  const readerOptions: ReaderOptions = { clusterCache, textCache, scans };
  const catalog = new NamespaceCatalog({
    store: ownerStore, maxBatchBytes: config.wal.max_batch_bytes, indexing: config.indexing, tmpDir, builds, metrics, readerOptions,
    history: { graceMs: config.compaction.gc_grace_secs * 1000, retentionMs: config.compaction.history_retention_secs * 1000 },
  });
  // Only indexers (and a single node) fold tails into segments and compact: query nodes own nothing.
  const maintenance = role === 'query'
    ? null
    : new Maintenance(() => catalog.openNamespaces(), { ...config.indexing, compaction: config.compaction }, log);
  if (maintenance) {
    catalog.onOpen = (ns) => maintenance.watch(ns);
    maintenance.onFenced = (ns) => void catalog.evict(ns);
    catalog.onClose = (ns) => maintenance.release(ns);
    maintenance.start();
  }
  catalog.onCloseError = (ns, err) => log.warn({ namespace: ns?.name, err: (err as Error).message }, 'flush before idle close failed; the WAL keeps the tail');
  // Owned namespaces (tails, segments, overhead) are closed least recently used first past their
  // allowance of the budget.
  catalog.memoryBudget = () => budget.allowance('namespaces');
  catalog.reportMemory = (bytes) => budget.report('namespaces', bytes);
  // Checked a few times per idle period, at most every 10 s: closing a little late costs nothing.
  const idleTimer = setInterval(() => {
    catalog.closeIdle().then(
      (n) => { if (n > 0) log.info({ namespaces: n }, 'idle namespaces closed'); },
      (e: unknown) => log.error({ err: e }, 'closing idle namespaces failed; will retry'),
    );
    catalog.closeOverBudget().then(
      (n) => { if (n > 0) log.info({ namespaces: n }, 'namespaces closed to stay within cache.memory_size'); },
      (e: unknown) => log.error({ err: e }, 'closing namespaces over the memory budget failed; will retry'),
    );
  }, Math.min(config.indexing.idle_close_secs * 250, 10_000));
  idleTimer.unref();
  const views = new ViewCatalog({ store: cached, tmpDir, readers, defaultEf: config.indexing.hnsw_ef_search, readerOptions }, config.cache.max_views, {
    allowance: () => budget.allowance('views'),
    report: (bytes) => budget.report('views', bytes),
  });
  const cluster = config.distributed.enabled
    ? {
        topology: Topology.fromConfig(config),
        views,
        bodyLimit: config.server.body_limit_bytes,
        queryLimits: config.query,
        forwardTimeoutMs: config.distributed.forward_timeout_ms,
        writeForwardTimeoutMs: config.distributed.write_forward_timeout_ms,
        eventualMaxStalenessMs: config.distributed.eventual_max_staleness_secs * 1000,
        clusterToken: config.auth.cluster_token,
      }
    : undefined;
  const app = buildServer({
    catalog,
    store,
    log,
    bodyLimit: config.server.body_limit_bytes,
    http: httpLimits(config.server),
    queryLimits: config.query,
    nodeId,
    compaction: config.compaction,
    historyRetentionSecs: config.compaction.history_retention_secs,
    ...(cluster ? { cluster } : {}),
    auth: authOptions(config.auth),
    metrics,
    stats: () => ({
      node: nodeId,
      role,
      object_store_requests: store.counts(),
      cache: { memory: budget.tier.stats(), disk: disk.stats() },
      namespaces_open: catalog.openNamespaces().length,
      namespaces_closed_idle_total: catalog.closedIdleTotal,
      namespaces_closed_memory_total: catalog.closedMemoryTotal,
      memory: memoryByKind(catalog.memory(), views.bytes, budget.tier.bytesByKind()),
      namespace_views: views.size,
      namespace_views_evicted_total: views.evicted,
      builds: builds.stats(),
      unindexed: catalog.admission.nodeStats(),
      ...(scans ? { query_threads: scans.stats() } : {}),
    }),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutdown started');
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.server.shutdown_timeout_secs * 1000);
    timer.unref();
    // Stop accepting, finish in-flight requests, fold the tails into segments (so the next start
    // replays little), then let anything still queued land.
    await app.close();
    maintenance?.stop();
    clearInterval(idleTimer);
    // Flushing is an optimization (the WAL holds every tail): spend at most half the budget on it.
    const flushed = await flushAll(catalog.openNamespaces(), {
      concurrency: SHUTDOWN_FLUSH_CONCURRENCY,
      deadline: Date.now() + (config.server.shutdown_timeout_secs * 1000) / 2,
      onSkipped: (ns) => log.warn({ namespace: ns.name }, 'no time left to flush at shutdown; the WAL keeps the tail'),
      onError: (ns, e) => log.warn({ namespace: ns.name, err: (e as Error).message }, 'flush at shutdown failed; the WAL keeps the tail'),
    });
    log.info(flushed, 'tails flushed at shutdown');
    await catalog.close(Errors.shuttingDown());
    await builds.close();
    await scans?.close();
    await disk.flush();
    store.close();
    log.info('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // Asked once before listening (storage/probe.ts): a wrong bucket or endpoint shows at start,
  // and the first query does not pay the storage client's first use. Meanwhile the query path
  // runs over a namespace in memory (warm-up.ts), so it does not pay its code's first run either.
  const [problem, warmed] = await Promise.all([
    probeStorage(store, STORAGE_PROBE_MS),
    warmUp(config.indexing, log, scans).catch((e: unknown) => e as Error),
  ]);
  if (warmed instanceof Error) log.warn({ err: warmed }, 'the query warm-up failed; the first queries run cold');
  else log.info({ ms: Math.round(warmed) }, 'query path warmed up');
  if (problem !== null) log.warn({ backend: config.storage.backend, problem }, 'object storage did not answer at start; /ready fails until it does');
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  const auth = config.auth.api_keys.length + config.auth.read_only_keys.length > 0 ? 'api_keys' : 'none';
  log.info({ address, backend: config.storage.backend, role, auth }, 'silt listening');
}

main().catch((e) => {
  process.stderr.write(`silt: fatal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
