// ingest: write throughput and what indexing costs.
// 1. Over HTTP against the real server on local storage: 50 batches of 1,000 GloVe-100 documents
//    from 4 concurrent clients; documents/s acknowledged, ack latency, time until the background
//    flush (at indexing.flush_docs = 50,000) has folded everything into a segment, the server's
//    peak RSS (VmHWM), and the latency of a cheap GET every 10 ms (the server's stalls as a
//    client sees them).
// 2. In process (the server cannot be instrumented from outside): the same ingest through a
//    NamespaceCatalog with the background Maintenance wired as src/main.ts does, while
//    perf_hooks.monitorEventLoopDelay samples the event loop, during ingest and during the flush
//    it triggers (with GC pauses, and an idle control process for the machine's own noise).
//    Raw hnswlib-node builds the same 50k in the same process before and after: flush / raw.
//
//   npm run bench -- ingest          (or: npx tsx bench/ingest.ts)

import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import hnswlib from 'hnswlib-node';
import { pino } from 'pino';
import { Maintenance } from '../src/compaction/maintenance.ts';
import type { Namespace } from '../src/indexer/namespace.ts';
import { parseDocument } from '../src/schema/document.ts';
import { LoopMonitor, type PhaseStats } from './lib/loop.ts';
import { rowArray, loadGloveOrSkip, type Glove } from './lib/data.ts';
import { fmt, printTable, verdict, writeResult } from './lib/report.ts';
import {
  call, createNamespace, indexingOptions, inProcessSilt, ownPeakRssMiB, peakRssMiB, schemaOf, startServer, tempDir, write,
} from './lib/silt.ts';
import { median, since, summarize } from './lib/stats.ts';

const BATCH = 1000;
const CLIENTS = 4;
const HTTP_RUNS = 3;
const FLUSH_DOCS = 50_000;
const TARGET_LOOP_MAX_MS = 50;

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

/**
 * The server's event loop cannot be sampled from outside, but its stalls show as the latency
 * of a cheap request: a probe GETs the namespace's stats every 10 ms during ingest and until
 * the flush has folded the tail, and its latency is recorded per phase.
 */
async function overHttp(bodies: string[], docs: number, dim: number) {
  const server = await startServer('ingest', {
    SILT_INDEXING_FLUSH_DOCS: String(FLUSH_DOCS),
    SILT_COMPACTION_ENABLED: 'false',
  });
  try {
    await call(server.url, 'PUT', '/v1/namespaces/ingest', { vector_dim: dim, vector_metric: 'cosine' });
    const state: { phase: 'ingest' | 'flush' } = { phase: 'ingest' };
    const probeMs = { ingest: [] as number[], flush: [] as number[] };
    let indexedAt = 0;
    let info: { segments: unknown[] } | null = null;
    const probe = (async () => {
      for (;;) {
        const t0 = performance.now();
        const stats = await call(server.url, 'GET', '/v1/namespaces/ingest');
        const now = performance.now();
        probeMs[state.phase].push(now - t0);
        if (state.phase === 'flush' && stats.unindexed_documents === 0 && stats.wal_entries === 0) {
          indexedAt = now;
          info = stats;
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const { wallMs, ackMs } = await runClients(bodies.length, async (i) => {
      await call(server.url, 'POST', '/v1/namespaces/ingest/upsert', bodies[i]);
    });
    const lastAck = performance.now();
    state.phase = 'flush';
    const rssAfterIngest = await peakRssMiB(server.pid);
    await probe;
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
      indexedAfterLastAckMs: indexedAt - lastAck,
      serverFlushMs: flushLog?.ms ?? null,
      segments: info!.segments.length,
      /** Latency of GET /v1/namespaces/:ns every 10 ms: how long the server's loop kept a cheap request waiting. */
      probeMs: { ingest: summarize(probeMs.ingest), flush: summarize(probeMs.flush) },
      peakRssMiB: { afterIngest: rssAfterIngest, afterFlush: await peakRssMiB(server.pid) },
    };
  } finally {
    await server.stop();
  }
}

/** Raw hnswlib-node over the same vectors with the same parameters, in this process. */
function rawBuild(glove: Glove, m: number, efConstruction: number): number {
  const t0 = performance.now();
  const raw = new hnswlib.HierarchicalNSW('cosine', glove.base.dim);
  raw.initIndex(glove.base.rows, m, efConstruction, 100);
  for (let i = 0; i < glove.base.rows; i++) raw.addPoint(rowArray(glove.base, i), i);
  return since(t0);
}

async function inProcess(batchDocs: JsonDoc[][], glove: Glove) {
  const dim = glove.base.dim;
  const docs = batchDocs.reduce((n, b) => n + b.length, 0);
  const indexing = indexingOptions({ flush_docs: FLUSH_DOCS, flush_bytes: 64 << 20, flush_interval_secs: 60 });
  // Raw builds bracket the flush (before and after), so a slow spell of the shared machine
  // shows up as a gap between them instead of silently skewing the ratio.
  const rawBefore = rawBuild(glove, indexing.hnsw_m, indexing.hnsw_ef_construction);
  (globalThis as { gc?: () => void }).gc?.();

  const dir = await tempDir('ingest');
  const records: Array<{ msg?: string; ms?: number; err?: unknown }> = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      records.push(JSON.parse(chunk.toString('utf8')));
      cb();
    },
  }));
  const silt = await inProcessSilt(dir, indexing);
  const maintenance = new Maintenance(() => silt.catalog.openNamespaces(), {
    ...indexing,
    compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, log);
  silt.catalog.onOpen = (ns) => maintenance.watch(ns);
  maintenance.start();
  let rssPeak = 0;
  const rssSampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 20);
  try {
    const schema = schemaOf({ vector_dim: dim, vector_metric: 'cosine' });
    const ns: Namespace = await createNamespace(silt.catalog, 'ingest', schema);

    // Each batch is parsed and checked as the upsert route does (parseDocument), then written.
    const loop = new LoopMonitor();
    await loop.open();
    await loop.start('ingest');
    const { wallMs, ackMs } = await runClients(batchDocs.length, async (i) => {
      const parsed = batchDocs[i]!.map((d, j) => parseDocument(d, schema, 'ingest', `documents[${j}]`));
      await write(ns, parsed);
    });
    await loop.start('flush');
    const t0 = performance.now();
    while (ns.memtable.size > 0 || ns.segments.length === 0) await new Promise((r) => setTimeout(r, 5));
    const flushedAfterMs = since(t0);
    const phases = await loop.finish();
    clearInterval(rssSampler);
    const failed = records.find((r) => r.msg === 'index maintenance failed; will retry');
    if (failed) throw new Error(`maintenance failed: ${JSON.stringify(failed)}`);
    const flushMs = records.find((r) => r.msg === 'tail flushed')?.ms ?? flushedAfterMs;
    const maxRss = ownPeakRssMiB();
    maintenance.stop();
    await silt.close();
    (globalThis as { gc?: () => void }).gc?.();

    const rawAfter = rawBuild(glove, indexing.hnsw_m, indexing.hnsw_ef_construction);
    const rawBuildMs = (rawBefore + rawAfter) / 2;
    return {
      docs,
      docsPerSec: (docs / wallMs) * 1000,
      ackMs: summarize(ackMs),
      eventLoop: phases as Record<'ingest' | 'flush', PhaseStats>,
      flushMs,
      flushedAfterLastAckMs: flushedAfterMs,
      rawBuildMs: { before: rawBefore, after: rawAfter, mean: rawBuildMs },
      flushOverRawBuild: flushMs / rawBuildMs,
      peakRssMiB: { sampledDuringIngestAndFlush: rssPeak / 2 ** 20, maxRssOfProcess: maxRss },
    };
  } finally {
    clearInterval(rssSampler);
    maintenance.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('ingest');
  if (!glove) return;
  const docBatches = batches(glove);
  const bodies = docBatches.map((documents) => JSON.stringify({ documents }));
  const docs = glove.base.rows;
  console.log(`ingest: ${docs} GloVe-100 documents in batches of ${BATCH} (${fmt(bodies[0]!.length / 2 ** 20, 2)} MiB of JSON each), ${CLIENTS} clients`);

  const http: Array<Awaited<ReturnType<typeof overHttp>>> = [];
  for (let run = 0; run < HTTP_RUNS; run++) {
    const r = await overHttp(bodies, docs, glove.base.dim);
    console.log(`http run ${run + 1}: ${fmt(r.docsPerSec, 0)} docs/s, indexed ${fmt(r.indexedAfterLastAckMs / 1000, 1)} s after the last ack`);
    http.push(r);
  }
  const local = await inProcess(docBatches, glove);

  const med = (f: (r: (typeof http)[number]) => number | null) => median(http.map((r) => f(r) ?? NaN));
  printTable(`over HTTP, real server, local storage (${HTTP_RUNS} runs, fresh server each; median)`,
    ['docs', 'docs/s', 'ack p50 ms', 'ack p99 ms', 'indexed after last ack s', 'server flush s', 'VmHWM ingest MiB', 'VmHWM flush MiB'],
    [[docs, fmt(med((r) => r.docsPerSec), 0), fmt(med((r) => r.ackMs.p50), 1), fmt(med((r) => r.ackMs.p99), 1),
      fmt(med((r) => r.indexedAfterLastAckMs) / 1000, 1), fmt(med((r) => r.serverFlushMs) / 1000, 1),
      fmt(med((r) => r.peakRssMiB.afterIngest), 0), fmt(med((r) => r.peakRssMiB.afterFlush), 0)]]);
  printTable('server stalls seen from outside: latency of GET /v1/namespaces/:ns every 10 ms (median of runs, ms)',
    ['phase', 'probes', 'p50', 'p99', 'max'],
    (['ingest', 'flush'] as const).map((p) => [p, med((r) => r.probeMs[p].count), fmt(med((r) => r.probeMs[p].p50), 1),
      fmt(med((r) => r.probeMs[p].p99), 1), fmt(med((r) => r.probeMs[p].max), 1)]));
  const e = local.eventLoop;
  const row = (label: string, p: PhaseStats) => [label, fmt(p.delayMs.max, 1), fmt(p.delayMs.p99, 1), fmt(p.delayMs.p50, 1),
    fmt(p.gc.maxMs, 1), `${p.gc.count} / ${fmt(p.gc.totalMs, 0)}`, fmt(p.controlMs?.max, 1), fmt(p.controlMs?.p99, 1)];
  printTable('in process: catalog + background maintenance, event-loop delay (monitorEventLoopDelay, 1 ms resolution, ms)',
    ['phase', 'max', 'p99', 'p50', 'GC max pause', 'GCs / total ms', 'idle control max', 'control p99'],
    [row('ingest (parse + WAL + memtable)', e.ingest), row('flush (worker build, upload, load)', e.flush)]);
  printTable('in process: throughput, indexing and memory',
    ['docs/s', 'ack p50 ms', 'flush s', 'raw build s (before / after)', 'flush / raw', 'peak RSS MiB (ingest+flush)'],
    [[fmt(local.docsPerSec, 0), fmt(local.ackMs.p50, 1), fmt(local.flushMs / 1000, 1),
      `${fmt(local.rawBuildMs.before / 1000, 1)} / ${fmt(local.rawBuildMs.after / 1000, 1)}`,
      `${fmt(local.flushOverRawBuild, 2)}×`, fmt(local.peakRssMiB.sampledDuringIngestAndFlush, 0)]]);
  const loopMax = Math.max(e.ingest.delayMs.max, e.flush.delayMs.max);
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
