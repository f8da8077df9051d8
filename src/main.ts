// Composition root: argv → config → storage → roles → server.
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Maintenance } from './compaction/maintenance.ts';
import { loadConfig, ConfigError, type SiltConfig } from './config/index.ts';
import { createObjectStore } from './storage/index.ts';
import { NamespaceCatalog } from './indexer/catalog.ts';
import { buildServer } from './server.ts';
import { createLogger } from './logging.ts';
import { Errors } from './errors.ts';

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
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`silt: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const nodeId = config.distributed.node_id || 'silt';
  const log = createLogger(config.logging, nodeId);
  if (config.distributed.enabled) {
    // Refuse rather than serve as something it is not: a "query" node must not take writes.
    process.stderr.write('silt: configuration error: distributed.enabled = true: cluster mode is not available in this version; run single-node (distributed.enabled = false)\n');
    process.exit(2);
  }
  const store = createObjectStore(config.storage);
  const tmpDir = join(config.cache.disk_path, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const catalog = new NamespaceCatalog({ store, maxBatchBytes: config.wal.max_batch_bytes, indexing: config.indexing, tmpDir });
  const maintenance = new Maintenance(() => catalog.openNamespaces(), { ...config.indexing, compaction: config.compaction }, log);
  catalog.onOpen = (ns) => maintenance.watch(ns);
  maintenance.start();
  const app = buildServer({
    catalog,
    store,
    log,
    bodyLimit: config.server.body_limit_bytes,
    queryLimits: config.query,
    nodeId,
    compaction: config.compaction,
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
    // Stop accepting, finish in-flight requests, then let queued WAL writes land.
    await app.close();
    maintenance.stop();
    await catalog.close(Errors.shuttingDown());
    log.info('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ host: config.server.host, port: config.server.port });
  log.info({ address, backend: config.storage.backend }, 'silt listening');
}

main().catch((e) => {
  process.stderr.write(`silt: fatal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
