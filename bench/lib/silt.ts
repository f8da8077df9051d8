// Silt as the benchmarks drive it: in process (a NamespaceCatalog over an object store, as
// src/main.ts wires it, minus HTTP) or as the real server process (test/support/silt-process.ts)
// on 127.0.0.1 with its storage and cache in a temporary directory.

import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { BuildPool, backlogThreads, buildThreads } from '../../src/segment/index.ts';
import type { IndexingOptions, Namespace, QueryHitJson } from '../../src/indexer/namespace.ts';
import { parseQuery, type QueryLimits } from '../../src/query/request.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import type { Document, NamespaceSchema } from '../../src/schema/types.ts';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { startSilt, type SiltProcess, type StartOptions } from '../../test/support/silt-process.ts';
import { ROOT } from './data.ts';

export const QUERY_LIMITS: QueryLimits = { default_top_k: 10, max_top_k: 1000 };

/** Indexing options for in-process runs: HNSW M=16, efConstruction=200; nothing flushes by itself, no backpressure. */
export function indexingOptions(over: Partial<IndexingOptions> = {}): IndexingOptions {
  return {
    flush_docs: 1_000_000_000,
    flush_bytes: 2 ** 40,
    flush_interval_secs: 1_000_000,
    idle_flush_secs: 0,
    hnsw_m: 16,
    hnsw_ef_construction: 200,
    hnsw_ef_search: 128,
    ivf_min_rows: 10_000,
    build_threads: 0,
    build_nice: 0,
    unindexed_limit_bytes: 2 ** 50,
    node_unindexed_limit_bytes: 2 ** 50,
    backpressure_retry_after_secs: 5,
    idle_close_secs: 1_000_000,
    ...over,
  };
}

export function schemaOf(json: unknown): NamespaceSchema {
  return parseNamespaceSchema(json);
}

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `silt-bench-${label}-`));
}

export interface InProcessSilt {
  catalog: NamespaceCatalog;
  store: ObjectStore;
  /** hnswlib's scratch directory. */
  tmpDir: string;
  close(): Promise<void>;
}

/** A catalog over `store` (a LocalFsObjectStore in `dir`/root when absent), as main.ts builds it. */
export async function inProcessSilt(dir: string, indexing: IndexingOptions, store?: ObjectStore): Promise<InProcessSilt> {
  const tmp = join(dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  const s = store ?? new LocalFsObjectStore(join(dir, 'root'));
  const builds = new BuildPool({ threads: buildThreads(indexing.build_threads), backlogThreads: backlogThreads(indexing.build_threads) });
  const catalog = new NamespaceCatalog({ store: s, maxBatchBytes: 64 << 20, indexing, tmpDir: tmp, builds });
  return {
    catalog,
    store: s,
    tmpDir: tmp,
    close: async () => {
      await catalog.close(new Error('benchmark finished'));
      await builds.close();
    },
  };
}

export async function createNamespace(catalog: NamespaceCatalog, name: string, schema: NamespaceSchema): Promise<Namespace> {
  await catalog.create(name, schema);
  return catalog.get(name);
}

/** One upsert request, acknowledged once its WAL object is durable. */
export async function write(ns: Namespace, docs: Document[]): Promise<void> {
  await ns.write({ kind: 'upsert', docs });
}

/** Upserts `docs` in batches, `concurrency` writers at a time; resolves when all are acknowledged. */
export async function upsertAll(ns: Namespace, docs: readonly Document[], batch = 1000, concurrency = 1): Promise<void> {
  let next = 0;
  const writer = async () => {
    while (next < docs.length) {
      const from = next;
      next += batch;
      await write(ns, docs.slice(from, from + batch));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
}

/** ns.query(parseQuery(body)): what the query route does minus HTTP. */
export function query(ns: Namespace, body: Record<string, unknown>): Promise<QueryHitJson[]> {
  return ns.query(parseQuery(body, ns.schema, ns.name, QUERY_LIMITS));
}

export function hitIds(hits: readonly QueryHitJson[]): number[] {
  return hits.map((h) => Number(h.id));
}

// ---- the real server process ----

export interface ServerHandle {
  url: string;
  pid: number;
  process: SiltProcess;
  dir: string;
  stop(): Promise<void>;
}

let built: string | undefined;

/**
 * The command that runs Silt as the image does (`node dist/main.js`, Dockerfile), after `npm run
 * build` once per benchmark process (bin/silt.mjs runs a dist/ only while it is newer than src/,
 * so `npm start` is unaffected). Under tsx a fresh process's first query also paid for compiling
 * the query pool's modules in its threads: on the 1M namespace on the S3 test server, 720–1,087
 * ms through tsx against 502–622 ms built.
 */
export function builtCommand(): [string, ...string[]] {
  if (built === undefined) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm run build failed (${r.status})`);
    built = join(ROOT, 'dist', 'main.js');
  }
  return [process.execPath, built];
}

/** Starts src/main.ts with local storage in a fresh temp dir; `env` adds SILT_* settings. */
export async function startServer(label: string, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<ServerHandle> {
  const dir = await tempDir(label);
  const silt = await startSilt({
    SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'root'),
    SILT_CACHE_DISK_PATH: join(dir, 'cache'),
    SILT_INDEXING_HNSW_M: '16',
    SILT_INDEXING_HNSW_EF_CONSTRUCTION: '200',
    ...env,
  }, [], opts);
  return {
    url: silt.url,
    pid: silt.child.pid!,
    process: silt,
    dir,
    async stop() {
      await silt.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One JSON request; `body` may be pre-serialized. Throws on a non-2xx status. */
export async function call(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** Peak resident set of a process (VmHWM), in MiB; null where /proc is not available. */
export async function peakRssMiB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** This process's peak resident set (getrusage maxrss), in MiB. */
export function ownPeakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
