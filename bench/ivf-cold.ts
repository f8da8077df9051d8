// ivf-cold: the cold target on one GloVe-100 50k namespace (cosine, one IVF segment, no
// tail), this revision against another (--before, default main) in the same run. Each revision
// writes its own namespace with its own code (so each reads the format it writes), on S3 (the S3
// test server as its own process) and on local storage. Then, alternating revisions, a fresh
// NamespaceCatalog over CountingObjectStore(TracingObjectStore(store)) answers a first query
// (open + query: manifest pointer, manifest, segment sections, WAL listing, IVF reads) and a
// second one: wall time, requests, sequential round trips, bytes read and their share of the
// namespace's bytes in storage.
//
//   npm run bench -- ivf-cold          (or: npx tsx bench/ivf-cold.ts [--before REV] [--runs N])

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ObjectStore } from '../src/storage/object-store.ts';
import { loadGloveOrSkip, ROOT, rowArray, rowF32, type Glove } from './lib/data.ts';
import { checkout } from './lib/process.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { startS3Process } from './lib/s3.ts';
import { tempDir } from './lib/silt.ts';
import { median } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { before: { type: 'string', default: 'main' }, runs: { type: 'string', default: '5' } },
});
const RUNS = Number(args.runs);
const K = 10;

interface Cost { ms: number; requests: number; gets: number; roundTrips: number; bytesRead: number }

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
    return { ms, requests: counting.total(), gets: counts.get ?? 0, roundTrips: trace.sequentialRoundTrips(), bytesRead: trace.bytesRead() };
  };
  // A different query each run: no run is helped by what another read.
  const first = await once(2 * run);
  const second = await once(2 * run + 1);
  await catalog.close(new Error('benchmark finished'));
  await builds.close();
  return { first, second };
}

async function backend(name: 'local' | 's3', variants: Array<{ label: string; rev: Revision }>, glove: Glove) {
  const dir = await tempDir(`ivf-cold-${name}`);
  const s3 = name === 's3' ? await startS3Process(join(dir, 's3')) : null;
  const stores = variants.map((v) => v.rev.store(s3, join(dir, 'root')));
  try {
    const sized = [];
    for (const [i, v] of variants.entries()) {
      console.log(`${name}: ${v.label} writes and indexes ${glove.base.rows} documents`);
      sized.push({ ...v, ns: `glove${i}`, ...await populate(v.rev, join(dir, `w${i}`), stores[i]!, `glove${i}`, glove) });
    }
    const runs = sized.map(() => [] as Array<{ first: Cost; second: Cost }>);
    for (let r = 0; r < RUNS; r++) {
      for (const [i, v] of sized.entries()) runs[i]!.push(await measure(v.rev, stores[i]!, join(dir, 'tmp'), v.ns, glove, r));
    }
    return sized.map((v, i) => {
      const pick = (which: 'first' | 'second', f: (c: Cost) => number) => median(runs[i]!.map((x) => f(x[which])));
      const summary = (which: 'first' | 'second') => ({
        ms: pick(which, (c) => c.ms), msPerRun: runs[i]!.map((x) => x[which].ms),
        requests: pick(which, (c) => c.requests), gets: pick(which, (c) => c.gets),
        roundTrips: pick(which, (c) => c.roundTrips), bytesRead: pick(which, (c) => c.bytesRead),
      });
      return { backend: name, variant: v.label, namespaceBytes: v.bytes, segmentBytes: v.segmentBytes, first: summary('first'), second: summary('second') };
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
  if (args.before !== 'none') variants.unshift({ label: `before (${args.before})`, root: await checkout(args.before), temp: true });
  try {
    const revs = await Promise.all(variants.map(async (v) => ({ label: v.label, rev: await revision(v.root) })));
    const results = [...await backend('s3', revs, glove), ...await backend('local', revs, glove)];
    printTable(`ivf-cold: GloVe-100 ${glove.base.rows} cosine, one IVF segment; fresh catalog per run, median of ${RUNS} runs`,
      ['backend', 'variant', 'query', 'ms', 'requests', 'GETs', 'sequential round trips', 'MiB read', 'of namespace', 'of segment'],
      results.flatMap((r) => (['first', 'second'] as const).map((which) => [
        r.backend, r.variant, which, fmt(r[which].ms, 1), r[which].requests, r[which].gets, r[which].roundTrips,
        fmt(r[which].bytesRead / 2 ** 20, 2), `${fmt((100 * r[which].bytesRead) / r.namespaceBytes, 1)} %`,
        `${fmt((100 * r[which].bytesRead) / r.segmentBytes, 1)} %`])));
    writeResult('ivf-cold', {
      data: { base: glove.base.rows, dim: glove.base.dim, k: K, runs: RUNS },
      method: 'each revision writes and indexes its own namespace with its own code; runs alternate revisions; each run a fresh ' +
        'NamespaceCatalog (no memory or disk cache) answering query 2r (first: opens the namespace) and 2r+1 (second); medians; ' +
        'S3 = test/support/s3-server.ts (s3rver) as its own process on 127.0.0.1',
      results,
    });
  } finally {
    for (const v of variants) if (v.temp) await rm(v.root, { recursive: true, force: true });
  }
}

await main();
