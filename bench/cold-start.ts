// cold-start: what the first query on a namespace costs when nothing is open yet. 20k GloVe-100
// documents (with an integer and a full-text attribute) are written and folded into three
// segments, the last 1,000 left in the WAL tail as two WAL objects. Then, several times, a fresh
// NamespaceCatalog over CountingObjectStore(TracingObjectStore(store)) answers a first query
// (opening the namespace: manifest, segments, WAL tail) and a second one: wall time, requests by
// operation, bytes read, and sequential round trips (DESIGN.md §7). On local storage and on S3
// (the S3 test server, s3rver, as a separate process on 127.0.0.1).
//
//   npm run bench -- cold-start          (or: npx tsx bench/cold-start.ts)

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { flushTail } from '../src/indexer/flush.ts';
import { NamespaceCatalog } from '../src/indexer/catalog.ts';
import { BuildPool } from '../src/segment/index.ts';
import type { Document } from '../src/schema/types.ts';
import { LocalFsObjectStore } from '../src/storage/local-fs.ts';
import { CountingObjectStore, type RequestCounts } from '../src/storage/metrics.ts';
import type { ObjectStore } from '../src/storage/object-store.ts';
import { loadGloveOrSkip, rowArray, rowF32, type Glove } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { s3Store, startS3Process } from './lib/s3.ts';
import { createNamespace, indexingOptions, inProcessSilt, query, schemaOf, tempDir, upsertAll } from './lib/silt.ts';
import { median } from './lib/stats.ts';
import { TracingObjectStore } from './lib/trace-store.ts';

const DOCS = 20_000;
/** Flush after these many documents: segments of 8k, 8k and 3k; the last 1k stay in the tail. */
const FLUSH_AT = [8_000, 16_000, 19_000];
const TAIL_BATCH = 500;
const RUNS = 5;
const NS = 'cold';

interface QueryCost {
  ms: number;
  openMs: number;
  requests: RequestCounts;
  total: number;
  sequentialRoundTrips: number;
  bytesRead: number;
}

async function populate(dir: string, store: ObjectStore, glove: Glove): Promise<void> {
  const writer = await inProcessSilt(dir, indexingOptions(), store);
  const ns = await createNamespace(writer.catalog, NS, schemaOf({
    vector_dim: glove.base.dim, vector_metric: 'cosine',
    attributes: { bucket: { type: 'integer' }, word: { type: 'string', full_text: true } },
  }));
  const docs: Document[] = Array.from({ length: DOCS }, (_, i) => ({
    id: BigInt(i), vector: rowF32(glove.base, i), attributes: { bucket: i % 100, word: glove.words[i] ?? '' },
  }));
  let from = 0;
  for (const cut of FLUSH_AT) {
    await upsertAll(ns, docs.slice(from, cut), 1000);
    await flushTail(ns);
    from = cut;
  }
  await upsertAll(ns, docs.slice(from), TAIL_BATCH);
  const s = ns.stats();
  console.log(`  ${s.segments.length} segments (${s.segments.map((x) => x.documents).join(' + ')}), ` +
    `${s.unindexed_documents} documents in ${s.wal_entries} WAL objects after the watermark`);
  await writer.close();
}

interface Run {
  first: QueryCost;
  second: QueryCost;
  /** The requests of the first query, in the order they started. */
  keys: string[];
}

async function measure(store: ObjectStore, tmpDir: string, glove: Glove): Promise<Run> {
  const trace = new TracingObjectStore(store);
  const counting = new CountingObjectStore(trace);
  // Queries only: the pool starts no thread.
  const builds = new BuildPool({ threads: 1 });
  const catalog = new NamespaceCatalog({ store: counting, maxBatchBytes: 64 << 20, indexing: indexingOptions(), tmpDir, builds });
  const once = async (q: number): Promise<QueryCost> => {
    counting.reset();
    trace.reset();
    const t0 = performance.now();
    const ns = await catalog.get(NS);
    const openMs = performance.now() - t0;
    const hits = await query(ns, { vector: rowArray(glove.queries, q), top_k: 10 });
    const ms = performance.now() - t0;
    if (hits.length !== 10) throw new Error(`expected 10 hits, got ${hits.length}`);
    return {
      ms, openMs, requests: counting.counts(), total: counting.total(),
      sequentialRoundTrips: trace.sequentialRoundTrips(), bytesRead: trace.bytesRead(),
    };
  };
  const first = await once(0);
  const keys = [...trace.events].sort((a, b) => a.start - b.start).map((e) => `${e.op} ${e.key}`);
  const second = await once(1);
  await catalog.close(new Error('benchmark finished'));
  await builds.close();
  return { first, second, keys };
}

async function backend(name: 'local' | 's3', glove: Glove) {
  const dir = await tempDir(`cold-${name}`);
  const s3 = name === 's3' ? await startS3Process(join(dir, 's3')) : null;
  const store: ObjectStore = s3 ? s3Store(s3) : new LocalFsObjectStore(join(dir, 'root'));
  try {
    console.log(`${name}: writing ${DOCS} documents`);
    await populate(dir, store, glove);
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await measure(store, join(dir, 'tmp'), glove));
    const summary = (pick: (r: Run) => QueryCost) => ({
      ms: median(runs.map((r) => pick(r).ms)),
      openMs: median(runs.map((r) => pick(r).openMs)),
      msPerRun: runs.map((r) => pick(r).ms),
      requests: pick(runs[0]!).requests,
      total: pick(runs[0]!).total,
      sequentialRoundTrips: median(runs.map((r) => pick(r).sequentialRoundTrips)),
      bytesRead: pick(runs[0]!).bytesRead,
    });
    return { backend: name, first: summary((r) => r.first), second: summary((r) => r.second), firstQueryRequests: runs[0]!.keys };
  } finally {
    (store as { close?: () => void }).close?.();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('cold-start');
  if (!glove) return;
  const results = [await backend('local', glove), await backend('s3', glove)];

  const ops = (c: RequestCounts) => Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  printTable(`cold start: ${DOCS} docs in 3 segments + 2 WAL objects; fresh catalog, median of ${RUNS} runs`,
    ['backend', 'query', 'ms', 'open ms', 'requests', 'by operation', 'sequential round trips', 'MiB read'],
    results.flatMap((r) => (['first', 'second'] as const).map((which) => [
      r.backend, which, fmt(r[which].ms, 1), fmt(r[which].openMs, 1), r[which].total, ops(r[which].requests),
      r[which].sequentialRoundTrips, fmt(r[which].bytesRead / 2 ** 20, 1),
    ])));
  console.log('\nrequests of the first query (local, first run):');
  for (const k of results[0]!.firstQueryRequests) console.log(`  ${k}`);

  writeResult('cold-start', {
    data: { docs: DOCS, segmentsAt: FLUSH_AT, tail: { docs: DOCS - FLUSH_AT[FLUSH_AT.length - 1]!, walObjects: (DOCS - FLUSH_AT[FLUSH_AT.length - 1]!) / TAIL_BATCH } },
    method: `${RUNS} runs per backend, each with a fresh NamespaceCatalog; medians; requests and round trips from the first run ` +
      '(deterministic); S3 = test/support/s3-server.ts (s3rver) as its own process on 127.0.0.1',
    results,
  });
}

await main();
