// ingest: write throughput and what indexing costs.
// 1. Over HTTP against the real server on local storage: 50 batches of 1,000 GloVe-100 documents
//    from 4 concurrent clients; documents/s acknowledged, ack latency, time until the background
//    flush (at indexing.flush_docs = 50,000) has folded everything into a segment, and the
//    server's peak RSS (VmHWM).
// 2. In process (the server cannot be instrumented from outside): the same ingest through a
//    NamespaceCatalog with the background Maintenance wired as src/main.ts does, while
//    perf_hooks.monitorEventLoopDelay samples the event loop, during ingest and during the flush
//    it triggers. Then raw hnswlib-node builds the same 50k in the same process: flush / raw.
//
//   npm run bench -- ingest          (or: npx tsx bench/ingest.ts)

import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import hnswlib from 'hnswlib-node';
import { pino } from 'pino';
import { Maintenance } from '../src/compaction/maintenance.ts';
import type { Namespace } from '../src/indexer/namespace.ts';
import { parseDocument } from '../src/schema/document.ts';
import { gloveAvailable, GLOVE_DIR, loadGlove, rowArray } from './lib/data.ts';
import { fmt, printTable, verdict, writeResult } from './lib/report.ts';
import {
  call, createNamespace, indexingOptions, inProcessSilt, ownPeakRssMiB, peakRssMiB, schemaOf, startServer, tempDir, waitIndexed, write,
} from './lib/silt.ts';
import { median, since, summarize } from './lib/stats.ts';

const BATCH = 1000;
const CLIENTS = 4;
const HTTP_RUNS = 2;
const FLUSH_DOCS = 50_000;
const TARGET_LOOP_MAX_MS = 50;

type Glove = ReturnType<typeof loadGlove>;

interface JsonDoc {
  id: number;
  vector: number[];
}

function batches(glove: Glove): JsonDoc[][] {
  const out: JsonDoc[][] = [];
  for (let from = 0; from < glove.base.rows; from += BATCH) {
    const docs: JsonDoc[] = [];
    for (let i = from; i < Math.min(glove.base.rows, from + BATCH); i++) docs.push({ id: i, vector: rowArray(glove.base, i) });
    out.push(docs);
  }
  return out;
}

/** `clients` loops taking the next batch until none is left; per-batch latency in ms. */
async function runClients(count: number, send: (i: number) => Promise<void>): Promise<{ wallMs: number; ackMs: number[] }> {
  let next = 0;
  const ackMs: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < count) {
      const i = next++;
      const start = performance.now();
      await send(i);
      ackMs.push(performance.now() - start);
    }
  }));
  return { wallMs: since(t0), ackMs };
}

async function overHttp(bodies: string[], docs: number, dim: number) {
  const server = await startServer('ingest', {
    SILT_INDEXING_FLUSH_DOCS: String(FLUSH_DOCS),
    SILT_COMPACTION_ENABLED: 'false',
  });
  try {
    await call(server.url, 'PUT', '/v1/namespaces/ingest', { vector_dim: dim, vector_metric: 'cosine' });
    const { wallMs, ackMs } = await runClients(bodies.length, async (i) => {
      await call(server.url, 'POST', '/v1/namespaces/ingest/upsert', bodies[i]);
    });
    const rssAfterIngest = await peakRssMiB(server.pid);
    const t0 = performance.now();
    const info = await waitIndexed(server.url, 'ingest');
    const indexedAfterMs = since(t0);
    const flushLog = server.process.logs.map((l) => {
      try {
        return JSON.parse(l) as { msg?: string; ms?: number };
      } catch {
        return {};
      }
    }).find((r) => r.msg === 'tail flushed');
    return {
      docs,
      docsPerSec: (docs / wallMs) * 1000,
      wallMs,
      ackMs: summarize(ackMs),
      indexedAfterLastAckMs: indexedAfterMs,
      serverFlushMs: flushLog?.ms ?? null,
      segments: info.segments.length as number,
      peakRssMiB: { afterIngest: rssAfterIngest, afterFlush: await peakRssMiB(server.pid) },
    };
  } finally {
    await server.stop();
  }
}

function histogramMs(h: IntervalHistogram) {
  return { max: h.max / 1e6, p99: h.percentile(99) / 1e6, p50: h.percentile(50) / 1e6, mean: h.mean / 1e6, samples: h.count };
}

async function inProcess(batchDocs: JsonDoc[][], glove: Glove) {
  const dim = glove.base.dim;
  const docs = batchDocs.reduce((n, b) => n + b.length, 0);
  const dir = await tempDir('ingest');
  const records: Array<{ msg?: string; ms?: number; err?: unknown }> = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      records.push(JSON.parse(chunk.toString('utf8')));
      cb();
    },
  }));
  const indexing = indexingOptions({ flush_docs: FLUSH_DOCS, flush_bytes: 64 << 20, flush_interval_secs: 60 });
  const silt = await inProcessSilt(dir, indexing);
  const maintenance = new Maintenance(() => silt.catalog.openNamespaces(), {
    ...indexing,
    compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, log);
  silt.catalog.onOpen = (ns) => maintenance.watch(ns);
  maintenance.start();
  let ns: Namespace;
  try {
    const schema = schemaOf({ vector_dim: dim, vector_metric: 'cosine' });
    ns = await createNamespace(silt.catalog, 'ingest', schema);

    // Each batch is parsed and checked as the upsert route does (parseDocument), then written.
    const ingestLoop = monitorEventLoopDelay({ resolution: 1 });
    const flushLoop = monitorEventLoopDelay({ resolution: 1 });
    ingestLoop.enable();
    const { wallMs, ackMs } = await runClients(batchDocs.length, async (i) => {
      const parsed = batchDocs[i]!.map((d, j) => parseDocument(d, schema, 'ingest', `documents[${j}]`));
      await write(ns, parsed);
    });
    ingestLoop.disable();
    flushLoop.enable();
    const t0 = performance.now();
    while (ns.memtable.size > 0 || ns.segments.length === 0) await new Promise((r) => setTimeout(r, 5));
    const flushedAfterMs = since(t0);
    flushLoop.disable();
    const failed = records.find((r) => r.msg === 'index maintenance failed; will retry');
    if (failed) throw new Error(`maintenance failed: ${JSON.stringify(failed)}`);
    const flushMs = records.find((r) => r.msg === 'tail flushed')?.ms ?? flushedAfterMs;
    const peakRss = ownPeakRssMiB();
    maintenance.stop();
    await silt.close();

    // Raw hnswlib-node: the same 50k, same parameters, in this process.
    const t1 = performance.now();
    const raw = new hnswlib.HierarchicalNSW('cosine', dim);
    raw.initIndex(glove.base.rows, indexing.hnsw_m, indexing.hnsw_ef_construction, 100);
    for (let i = 0; i < glove.base.rows; i++) raw.addPoint(rowArray(glove.base, i), i);
    const rawBuildMs = since(t1);

    return {
      docs,
      docsPerSec: (docs / wallMs) * 1000,
      ackMs: summarize(ackMs),
      eventLoopMs: { ingest: histogramMs(ingestLoop), flush: histogramMs(flushLoop) },
      flushMs,
      flushedAfterLastAckMs: flushedAfterMs,
      rawBuildMs,
      flushOverRawBuild: flushMs / rawBuildMs,
      peakRssMiB: peakRss,
    };
  } finally {
    maintenance.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!gloveAvailable()) {
    console.log(`ingest: GloVe data not found at ${GLOVE_DIR}; skipping.`);
    return;
  }
  const glove = loadGlove();
  const docBatches = batches(glove);
  const bodies = docBatches.map((documents) => JSON.stringify({ documents }));
  const docs = glove.base.rows;
  console.log(`ingest: ${docs} GloVe-100 documents in batches of ${BATCH} (${fmt(bodies[0]!.length / 2 ** 20, 2)} MiB of JSON each), ${CLIENTS} clients`);

  const http = [];
  for (let run = 0; run < HTTP_RUNS; run++) {
    const r = await overHttp(bodies, docs, glove.base.dim);
    console.log(`http run ${run + 1}: ${fmt(r.docsPerSec, 0)} docs/s, indexed ${fmt(r.indexedAfterLastAckMs / 1000, 1)} s after the last ack`);
    http.push(r);
  }
  const local = await inProcess(docBatches, glove);

  printTable(`over HTTP, real server, local storage (${HTTP_RUNS} runs, fresh server each; median)`,
    ['docs', 'docs/s', 'ack p50 ms', 'ack p99 ms', 'indexed after last ack s', 'server flush s', 'VmHWM ingest MiB', 'VmHWM flush MiB'],
    [[docs, fmt(median(http.map((r) => r.docsPerSec)), 0), fmt(median(http.map((r) => r.ackMs.p50)), 1),
      fmt(median(http.map((r) => r.ackMs.p99)), 1), fmt(median(http.map((r) => r.indexedAfterLastAckMs)) / 1000, 1),
      fmt(median(http.map((r) => r.serverFlushMs ?? NaN)) / 1000, 1),
      fmt(median(http.map((r) => r.peakRssMiB.afterIngest ?? NaN)), 0), fmt(median(http.map((r) => r.peakRssMiB.afterFlush ?? NaN)), 0)]]);
  const e = local.eventLoopMs;
  printTable('in process: catalog + background maintenance, event-loop delay (monitorEventLoopDelay, 1 ms resolution)',
    ['phase', 'max ms', 'p99 ms', 'p50 ms', 'mean ms'],
    [['ingest (parse + WAL + memtable)', fmt(e.ingest.max, 1), fmt(e.ingest.p99, 1), fmt(e.ingest.p50, 1), fmt(e.ingest.mean, 2)],
      ['flush (worker build, upload, load)', fmt(e.flush.max, 1), fmt(e.flush.p99, 1), fmt(e.flush.p50, 1), fmt(e.flush.mean, 2)]]);
  printTable('in process: throughput, indexing and memory',
    ['docs/s', 'ack p50 ms', 'flush s', 'raw hnswlib build s', 'flush / raw', 'peak RSS MiB'],
    [[fmt(local.docsPerSec, 0), fmt(local.ackMs.p50, 1), fmt(local.flushMs / 1000, 1), fmt(local.rawBuildMs / 1000, 1),
      `${fmt(local.flushOverRawBuild, 2)}×`, fmt(local.peakRssMiB, 0)]]);
  const loopMax = Math.max(e.ingest.max, e.flush.max);
  const met = loopMax < TARGET_LOOP_MAX_MS;
  console.log(`\ntarget event-loop max < ${TARGET_LOOP_MAX_MS} ms during ingest + flush: ${verdict(met)} (${fmt(loopMax, 1)} ms)`);

  writeResult('ingest', {
    data: { docs, dim: glove.base.dim, batch: BATCH, clients: CLIENTS, flushDocs: FLUSH_DOCS, hnsw: { m: 16, efConstruction: 200 } },
    http: { runs: http },
    inProcess: local,
    target: { eventLoopMaxMs: TARGET_LOOP_MAX_MS, measuredMaxMs: loopMax, met },
  });
}

await main();
