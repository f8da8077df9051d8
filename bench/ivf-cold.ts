// ivf-cold: the cold target on one GloVe-100 50k namespace (cosine, one IVF segment, no
// tail), this revision against another (--before, default main) in the same run. Each revision
// writes its own namespace with its own code (so each reads the format it writes), on S3 (the S3
// test server as its own process) and on local storage. Then, alternating revisions, a fresh
// NamespaceCatalog over CountingObjectStore(TracingObjectStore(store)) answers a first query
// (open + query: manifest pointer, manifest, segment sections, WAL listing, IVF reads) and a
// second one: wall time, requests, sequential round trips, bytes read and their share of the
// namespace's bytes in storage.
//
// LanceDB beside them (the target is "≤ LanceDB's cold first query in the same run"): the
// same 50k rows in a table on the same S3 test server (and a local directory), an IVF_FLAT index
// (cosine, its default partitions), queried at nprobes 50, its best setting at recall ≥ 0.95 on
// this data (DESIGN.md §8). Each run a fresh connection opens the table and answers the same two
// queries, taking its turn after Silt's revisions; its requests and bytes are not counted (its
// object_store client talks to the server directly). Installed on first use (bench/lib/lancedb.ts);
// --lancedb false leaves it out.
//
//   npm run bench -- ivf-cold          (or: npx tsx bench/ivf-cold.ts [--before REV] [--runs N] [--lancedb false])

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ObjectStore } from '../src/storage/object-store.ts';
import { loadGloveOrSkip, recall, ROOT, rowArray, rowF32, truthTopK, type Glove } from './lib/data.ts';
import { LANCEDB_VERSION, lanceS3Options, loadLanceDb, type LanceDb } from './lib/lancedb.ts';
import { checkout } from './lib/process.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { S3_CREDENTIALS, startS3Process } from './lib/s3.ts';
import { tempDir } from './lib/silt.ts';
import { median } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { before: { type: 'string', default: 'main' }, runs: { type: 'string', default: '5' }, lancedb: { type: 'string', default: 'true' } },
});
const RUNS = Number(args.runs);
const K = 10;
/** LanceDB's probe count: its best point at recall ≥ 0.95 on GloVe-100 50k (DESIGN.md §8: 0.983). */
const LANCE_NPROBES = 50;

/** One query's cost; the counts are null for LanceDB, whose requests this process does not see. */
interface Cost { ms: number; recall: number; requests: number | null; gets: number | null; roundTrips: number | null; bytesRead: number | null }

/** One revision's code, imported from its tree (this one, or a checkout of --before). */
async function revision(root: string) {
  const imp = (p: string) => import(join(root, p));
  const [silt, flush, catalog, segment, metrics, trace, s3, local, retry] = await Promise.all([
    imp('bench/lib/silt.ts'), imp('src/indexer/flush.ts'), imp('src/indexer/catalog.ts'),
    imp('src/segment/index.ts'), imp('src/storage/metrics.ts'), imp('bench/lib/trace-store.ts'),
    imp('bench/lib/s3.ts'), imp('src/storage/local-fs.ts'), imp('src/storage/retry.ts')]);
  // Its own stores too: its code tells storage errors apart by its own StorageError class. S3
  // through the retry layer, as main.ts wires it: s3rver on a loaded machine drops a socket now
  // and then among a cold query's ~200 parallel GETs (a retry shows as one more request).
  const store = (server: { endpoint: string; bucket: string } | null, root: string): ObjectStore => {
    if (!server) return new local.LocalFsObjectStore(root);
    const inner = s3.s3Store(server);
    return Object.assign(retry.withRetry(inner, { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 1000 }), { close: () => inner.close() });
  };
  return { silt, store, flushTail: flush.flushTail, NamespaceCatalog: catalog.NamespaceCatalog, BuildPool: segment.BuildPool,
    CountingObjectStore: metrics.CountingObjectStore, TracingObjectStore: trace.TracingObjectStore };
}
type Revision = Awaited<ReturnType<typeof revision>>;

async function populate(rev: Revision, dir: string, store: ObjectStore, ns: string, glove: Glove): Promise<{ bytes: number; segmentBytes: number }> {
  const writer = await rev.silt.inProcessSilt(dir, rev.silt.indexingOptions(), store);
  const namespace = await rev.silt.createNamespace(writer.catalog, ns, rev.silt.schemaOf({ vector_dim: glove.base.dim, vector_metric: 'cosine' }));
  const docs = Array.from({ length: glove.base.rows }, (_, i) => ({ id: BigInt(i), vector: rowF32(glove.base, i), attributes: {} }));
  await rev.silt.upsertAll(namespace, docs, 1000);
  await rev.flushTail(namespace);
  await writer.close();
  // Every object of the namespace (manifests, WAL objects not yet collected, the segment), and the segment alone.
  let bytes = 0;
  let segmentBytes = 0;
  let token: string | undefined;
  do {
    const page = await store.list(`${ns}/`, token === undefined ? {} : { continuationToken: token });
    for (const o of page.objects) {
      bytes += o.size;
      if (o.key.startsWith(`${ns}/seg/`)) segmentBytes += o.size;
    }
    token = page.nextToken;
  } while (token !== undefined);
  return { bytes, segmentBytes };
}

async function measure(rev: Revision, store: ObjectStore, tmpDir: string, ns: string, glove: Glove, run: number): Promise<{ first: Cost; second: Cost }> {
  const trace = new rev.TracingObjectStore(store);
  const counting = new rev.CountingObjectStore(trace);
  const builds = new rev.BuildPool({ threads: 1 });
  const catalog = new rev.NamespaceCatalog({ store: counting, maxBatchBytes: 64 << 20, indexing: rev.silt.indexingOptions(), tmpDir, builds });
  const once = async (q: number): Promise<Cost> => {
    counting.reset();
    trace.reset();
    const t0 = performance.now();
    // The query handed to the open, as the query route does (catalog.get's hint; older revisions ignore it).
    const hits = await rev.silt.query(await catalog.get(ns, { vector: rowF32(glove.queries, q) }), { vector: rowArray(glove.queries, q), top_k: K });
    const ms = performance.now() - t0;
    if (hits.length !== K) throw new Error(`expected ${K} hits, got ${hits.length}`);
    const counts = counting.counts() as Record<string, number>;
    return {
      ms, recall: recall(rev.silt.hitIds(hits), truthTopK(glove.groundTruth, q, K)),
      requests: counting.total(), gets: counts.get ?? 0, roundTrips: trace.sequentialRoundTrips(), bytesRead: trace.bytesRead(),
    };
  };
  // A different query each run: no run is helped by what another read.
  const first = await once(2 * run);
  const second = await once(2 * run + 1);
  await catalog.close(new Error('benchmark finished'));
  await builds.close();
  return { first, second };
}

/** LanceDB's table of the same rows at `uri`, with its IVF_FLAT index (cosine, its default partitions). */
async function populateLance(lance: LanceDb, uri: string, storageOptions: Record<string, string>, glove: Glove): Promise<void> {
  const db = await lance.connect(uri, { storageOptions });
  const rows = Array.from({ length: glove.base.rows }, (_, i) => ({ id: i, vector: rowArray(glove.base, i) }));
  const table = await db.createTable('glove', rows, { mode: 'overwrite' });
  await table.createIndex('vector', { config: lance.Index.ivfFlat({ distanceType: 'cosine' }) });
  db.close();
}

/** A fresh connection's first query (connect, open the table, query) and its second, as `measure` does for Silt. */
async function measureLance(lance: LanceDb, uri: string, storageOptions: Record<string, string>, glove: Glove, run: number): Promise<{ first: Cost; second: Cost }> {
  const t0 = performance.now();
  const db = await lance.connect(uri, { storageOptions });
  const table = await db.openTable('glove');
  const once = async (q: number, since: number): Promise<Cost> => {
    const hits = await table.search(rowArray(glove.queries, q)).distanceType('cosine').nprobes(LANCE_NPROBES).limit(K).select(['id', '_distance']).toArray();
    const ms = performance.now() - since;
    if (hits.length !== K) throw new Error(`LanceDB: expected ${K} hits, got ${hits.length}`);
    const found = hits.map((h) => Number(h.id));
    return { ms, recall: recall(found, truthTopK(glove.groundTruth, q, K)), requests: null, gets: null, roundTrips: null, bytesRead: null };
  };
  const first = await once(2 * run, t0);
  const second = await once(2 * run + 1, performance.now());
  db.close();
  return { first, second };
}

async function backend(name: 'local' | 's3', variants: Array<{ label: string; rev: Revision }>, glove: Glove, lance: LanceDb | null) {
  const dir = await tempDir(`ivf-cold-${name}`);
  const s3 = name === 's3' ? await startS3Process(join(dir, 's3')) : null;
  const stores = variants.map((v) => v.rev.store(s3, join(dir, 'root')));
  const lanceAt = s3 === null
    ? { uri: join(dir, 'lance'), options: {} }
    : { uri: `s3://${s3.bucket}/lance`, options: lanceS3Options(s3.endpoint, S3_CREDENTIALS) };
  try {
    const sized = [];
    for (const [i, v] of variants.entries()) {
      console.log(`${name}: ${v.label} writes and indexes ${glove.base.rows} documents`);
      sized.push({ ...v, ns: `glove${i}`, ...await populate(v.rev, join(dir, `w${i}`), stores[i]!, `glove${i}`, glove) });
    }
    if (lance) {
      console.log(`${name}: LanceDB ${LANCEDB_VERSION} writes and indexes ${glove.base.rows} documents`);
      await populateLance(lance, lanceAt.uri, lanceAt.options, glove);
    }
    const runs = Array.from({ length: sized.length + (lance ? 1 : 0) }, () => [] as Array<{ first: Cost; second: Cost }>);
    for (let r = 0; r < RUNS; r++) {
      for (const [i, v] of sized.entries()) runs[i]!.push(await measure(v.rev, stores[i]!, join(dir, 'tmp'), v.ns, glove, r));
      if (lance) runs[sized.length]!.push(await measureLance(lance, lanceAt.uri, lanceAt.options, glove, r));
    }
    const labels = [...sized.map((v) => ({ variant: v.label, namespaceBytes: v.bytes, segmentBytes: v.segmentBytes })),
      ...(lance ? [{ variant: `LanceDB ${LANCEDB_VERSION} (IVF_FLAT, nprobes ${LANCE_NPROBES})`, namespaceBytes: null, segmentBytes: null }] : [])];
    return labels.map((v, i) => {
      const pick = (which: 'first' | 'second', f: (c: Cost) => number | null) => {
        const xs = runs[i]!.map((x) => f(x[which]));
        return xs.some((x) => x === null) ? null : median(xs as number[]);
      };
      const summary = (which: 'first' | 'second') => ({
        ms: pick(which, (c) => c.ms)!, msPerRun: runs[i]!.map((x) => x[which].ms), recall: pick(which, (c) => c.recall)!,
        requests: pick(which, (c) => c.requests), gets: pick(which, (c) => c.gets),
        roundTrips: pick(which, (c) => c.roundTrips), bytesRead: pick(which, (c) => c.bytesRead),
      });
      return { backend: name, ...v, first: summary('first'), second: summary('second') };
    });
  } finally {
    for (const store of stores) (store as { close?: () => void }).close?.();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('ivf-cold');
  if (!glove) return;
  const variants = [{ label: 'after', root: ROOT, temp: false }];
  const lance = args.lancedb === 'false' ? null : loadLanceDb();
  if (args.before !== 'none') variants.unshift({ label: `before (${args.before})`, root: await checkout(args.before), temp: true });
  try {
    const revs = await Promise.all(variants.map(async (v) => ({ label: v.label, rev: await revision(v.root) })));
    const results = [...await backend('s3', revs, glove, lance), ...await backend('local', revs, glove, lance)];
    const share = (bytes: number | null, of: number | null) => (bytes === null || of === null ? '-' : `${fmt((100 * bytes) / of, 1)} %`);
    printTable(`ivf-cold: GloVe-100 ${glove.base.rows} cosine, one IVF segment; fresh catalog (LanceDB: connection) per run, median of ${RUNS} runs`,
      ['backend', 'variant', 'query', 'ms', 'recall@10', 'requests', 'GETs', 'sequential round trips', 'MiB read', 'of namespace', 'of segment'],
      results.flatMap((r) => (['first', 'second'] as const).map((which) => [
        r.backend, r.variant, which, fmt(r[which].ms, 1), fmt(r[which].recall, 3), r[which].requests ?? '-', r[which].gets ?? '-', r[which].roundTrips ?? '-',
        r[which].bytesRead === null ? '-' : fmt(r[which].bytesRead / 2 ** 20, 2), share(r[which].bytesRead, r.namespaceBytes),
        share(r[which].bytesRead, r.segmentBytes)])));
    writeResult('ivf-cold', {
      data: { base: glove.base.rows, dim: glove.base.dim, k: K, runs: RUNS },
      method: 'each revision writes and indexes its own namespace with its own code; runs alternate revisions; each run a fresh ' +
        'NamespaceCatalog (no memory or disk cache) answering query 2r (first: opens the namespace) and 2r+1 (second); medians; ' +
        'S3 = test/support/s3-server.ts (s3rver) as its own process on 127.0.0.1; LanceDB: the same rows, IVF_FLAT cosine, ' +
        `nprobes ${LANCE_NPROBES}, a fresh connection per run (connect + open + first query), its turn after Silt's`,
      results,
    });
  } finally {
    for (const v of variants) if (v.temp) await rm(v.root, { recursive: true, force: true });
  }
}

await main();
