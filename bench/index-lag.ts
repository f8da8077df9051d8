// index-lag: does indexing keep up with ingest? (issue 9, "all cores", first bullet)
// In process (a NamespaceCatalog with the background Maintenance wired as src/main.ts does, so
// the flushes, merges and their log lines can be timed): N synthetic clustered 128-d documents
// written in batches of 1,000 by 4 concurrent writers, paced to --rate documents/s (26k/s is what
// 4 HTTP clients got acknowledged on this machine, issue 9) so that the build pool sees the
// ingest rate a real server does. Reported: the acknowledged rate; the time from the last
// acknowledgement until the tail is folded (no unindexed document, WAL watermark at the last
// write); where the build time went (flushes, merges, and a breakdown of one piece's build);
// vector query latency during ingest and during the catch-up (the unindexed tail is scanned
// exactly, so its size shows here); peak RSS. Documents are generated per batch from a seed and
// not kept, so the figure is the node's, not the generator's.
//
//   npm run bench -- index-lag       (or: npx tsx bench/index-lag.ts --docs 200000 --rate 26000)

import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Maintenance } from '../src/compaction/maintenance.ts';
import type { Namespace } from '../src/indexer/namespace.ts';
import { parseDocument } from '../src/schema/document.ts';
import { buildSegmentSync } from '../src/segment/builder.ts';
import { encodeIvf } from '../src/segment/ivf.ts';
import { partitionRows, seededRandom } from '../src/segment/kmeans.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { createNamespace, indexingOptions, inProcessSilt, ownPeakRssMiB, query, schemaOf, tempDir, write } from './lib/silt.ts';
import { median, since, summarize } from './lib/stats.ts';

const DIM = 128;
const BATCH = 1000;
const WRITERS = 4;
const CENTERS = 1000;
const FLUSH_DOCS = 50_000;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Gaussian clusters around CENTERS fixed centers: the "synthetic clustered" data of issue 9. */
class Synthetic {
  private readonly centers: Float32Array;

  constructor(seed = 7) {
    const rand = seededRandom(seed);
    this.centers = Float32Array.from({ length: CENTERS * DIM }, () => rand() * 2 - 1);
  }

  vector(rand: () => number, out: number[] | Float32Array, at = 0): void {
    const c = Math.floor(rand() * CENTERS) * DIM;
    for (let d = 0; d < DIM; d++) out[at + d] = this.centers[c + d]! + (rand() + rand() + rand() - 1.5) * 0.2;
  }

  batch(i: number): Array<{ id: number; vector: number[] }> {
    const rand = seededRandom(1_000_003 * (i + 1));
    return Array.from({ length: BATCH }, (_, j) => {
      const vector = new Array<number>(DIM);
      this.vector(rand, vector);
      return { id: i * BATCH + j, vector };
    });
  }

  matrix(rows: number, seed: number): Float32Array {
    const rand = seededRandom(seed);
    const out = new Float32Array(rows * DIM);
    for (let r = 0; r < rows; r++) this.vector(rand, out, r * DIM);
    return out;
  }
}

/**
 * One piece's build, phase by phase, in this thread (what a build worker spends its time on):
 * each phase 3 times, the median. The k-means runs on normalized rows, as encodeIvf's does for
 * cosine; "codes + blocks" is encodeIvf minus it, "the rest" (ids, columns, assembly) the whole
 * build minus encodeIvf.
 */
function breakdown(data: Synthetic, rows: number) {
  const vectors = data.matrix(rows, 99);
  const normalized = vectors.slice();
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let d = 0; d < DIM; d++) n += normalized[r * DIM + d]! ** 2;
    for (let d = 0; d < DIM; d++) normalized[r * DIM + d]! /= Math.sqrt(n);
  }
  const hasVector = new Uint8Array(rows).fill(1);
  const timed = (f: () => unknown) => median([0, 1, 2].map(() => {
    const t0 = performance.now();
    f();
    return since(t0);
  }));
  const partitionMs = timed(() => partitionRows(normalized, DIM, Uint32Array.from({ length: rows }, (_, i) => i), 256, 42));
  const ivfMs = timed(() => encodeIvf({ metric: 'cosine', dim: DIM, rows, data: vectors, hasVector, clusterRows: 256, codes: 'bits', seed: 42 }));
  const segmentMs = timed(() => buildSegmentSync({
    schema: schemaOf({ vector_dim: DIM, vector_metric: 'cosine' }),
    ids: Array.from({ length: rows }, (_, i) => BigInt(i)), vectors, hasVector,
    attributes: Array.from({ length: rows }, () => ({})), hnsw: { m: 16, efConstruction: 200 },
  }));
  return { rows, partitionMs, encodeMs: ivfMs - partitionMs, restMs: segmentMs - ivfMs, segmentMs };
}

async function ingest(data: Synthetic, docs: number, rate: number) {
  const indexing = indexingOptions({ flush_docs: FLUSH_DOCS, flush_bytes: 64 << 20, flush_interval_secs: 60 });
  const dir = await tempDir('index-lag');
  const records: Array<{ msg?: string; ms?: number; documents?: number; merges?: number; err?: unknown; at?: number }> = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      records.push({ ...JSON.parse(chunk.toString('utf8')), at: performance.now() });
      cb();
    },
  }));
  const silt = await inProcessSilt(dir, indexing);
  const maintenance = new Maintenance(() => silt.catalog.openNamespaces(), {
    ...indexing,
    compaction: { enabled: true, interval_secs: 3600, max_segments: 16, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, log);
  silt.catalog.onOpen = (ns) => maintenance.watch(ns);
  maintenance.start();
  let rssPeak = 0;
  let tailPeak = 0;
  let ns: Namespace | null = null;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    if (ns) tailPeak = Math.max(tailPeak, ns.memtable.size);
  }, 50);
  try {
    const schema = schemaOf({ vector_dim: DIM, vector_metric: 'cosine' });
    ns = await createNamespace(silt.catalog, 'lag', schema);
    const target: Namespace = ns;
    const phase: { now: 'ingest' | 'catch-up' | 'done' } = { now: 'ingest' };
    const queryMs = { ingest: [] as number[], 'catch-up': [] as number[] };
    const probeRand = seededRandom(5);
    const prober = (async () => {
      while (phase.now !== 'done') {
        const v = new Array<number>(DIM);
        data.vector(probeRand, v);
        const t0 = performance.now();
        const current = phase.now;
        await query(target, { vector: v, top_k: 10, include_attributes: false });
        queryMs[current].push(since(t0));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const batches = Math.ceil(docs / BATCH);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < batches) {
        const i = next++;
        // Pacing: batch i is not sent before its time at `rate` documents/s.
        const due = t0 + (i * BATCH * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const parsed = data.batch(i).map((d, j) => parseDocument(d, schema, 'lag', `documents[${j}]`));
        await write(target, parsed);
      }
    }));
    const lastAck = performance.now();
    const ackWallMs = lastAck - t0;
    phase.now = 'catch-up';
    const tailAtLastAck = target.memtable.size;
    while (target.memtable.size > 0 || target.loaded.manifest.wal_watermark < target.lastAppliedSeq) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const indexedAfterMs = since(lastAck);
    phase.now = 'done';
    await prober;
    console.log(`indexed ${fmt(indexedAfterMs / 1000, 1)} s after the last ack (${fmt((batches * BATCH * 1000) / ackWallMs, 0)} docs/s acked); waiting for merges`);
    // The merges the policy still wants once the tail is folded (not part of "indexed"); the
    // running check must end before the pool closes.
    while (maintenanceBusy(records, target)) await new Promise((r) => setTimeout(r, 200));
    maintenance.stop();
    await maintenance.release(target);
    const settledAfterMs = since(lastAck);
    clearInterval(sampler);
    const failed = records.find((r) => r.msg === 'index maintenance failed; will retry');
    if (failed) throw new Error(`maintenance failed: ${JSON.stringify(failed)}`);
    const flushes = records.filter((r) => r.msg === 'tail flushed');
    const merges = records.filter((r) => r.msg === 'segments merged');
    return {
      docs: batches * BATCH,
      rate,
      ackPerSec: (batches * BATCH * 1000) / ackWallMs,
      tailAtLastAck,
      tailPeak,
      indexedAfterLastAckMs: indexedAfterMs,
      mergesSettledAfterLastAckMs: settledAfterMs,
      flushes: { count: flushes.length, docs: flushes.map((f) => f.documents ?? 0), ms: flushes.map((f) => f.ms ?? 0) },
      merges: { count: merges.length, ms: merges.map((m) => m.ms ?? 0) },
      segments: target.segments.map((s) => s.rowCount),
      queryMs: { ingest: summarize(queryMs.ingest), catchUp: summarize(queryMs['catch-up']) },
      peakRssMiB: { sampled: rssPeak / 2 ** 20, maxRss: ownPeakRssMiB() },
    };
  } finally {
    clearInterval(sampler);
    maintenance.stop();
    await silt.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** True while the last maintenance line is younger than 3 s and the merge policy may still act. */
function maintenanceBusy(records: ReadonlyArray<{ at?: unknown }>, ns: Namespace): boolean {
  const last = records.at(-1)?.at;
  return ns.segments.length > 1 && typeof last === 'number' && performance.now() - last < 3000;
}

async function main(): Promise<void> {
  const docs = arg('docs', 1_000_000);
  const rate = arg('rate', 26_000);
  const data = new Synthetic();
  const piece = breakdown(data, FLUSH_DOCS);
  printTable(`one ${FLUSH_DOCS}-row build in this thread (128-d, IVF bits, 256 rows a cluster), ms`,
    ['k-means + assignment', 'codes + blocks', 'the rest', 'whole build', 'docs/s one thread'],
    [[fmt(piece.partitionMs, 0), fmt(piece.encodeMs, 0), fmt(piece.restMs, 0), fmt(piece.segmentMs, 0), fmt((piece.rows / piece.segmentMs) * 1000, 0)]]);
  (globalThis as { gc?: () => void }).gc?.();

  const r = await ingest(data, docs, rate);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  printTable(`${r.docs} docs × ${DIM}-d, ${WRITERS} writers paced to ${rate} docs/s, flush_docs ${FLUSH_DOCS}`,
    ['acked docs/s', 'tail at last ack', 'tail peak', 'indexed after last ack s', 'merges settled s', 'peak RSS MiB'],
    [[fmt(r.ackPerSec, 0), r.tailAtLastAck, r.tailPeak, fmt(r.indexedAfterLastAckMs / 1000, 1), fmt(r.mergesSettledAfterLastAckMs / 1000, 1), fmt(r.peakRssMiB.sampled, 0)]]);
  printTable('where the build time went (wall time of each task, seconds)',
    ['flushes', 'docs a flush (min / max)', 'flush s total', 'merges', 'merge s total', 'segments after'],
    [[r.flushes.count, `${Math.min(...r.flushes.docs)} / ${Math.max(...r.flushes.docs)}`, fmt(sum(r.flushes.ms) / 1000, 1),
      r.merges.count, fmt(sum(r.merges.ms) / 1000, 1), r.segments.join(' ')]]);
  printTable('vector query (top 10) every 100 ms, ms', ['phase', 'queries', 'p50', 'p99'],
    [['ingest', r.queryMs.ingest.count, fmt(r.queryMs.ingest.p50, 1), fmt(r.queryMs.ingest.p99, 1)],
      ['catch-up', r.queryMs.catchUp.count, fmt(r.queryMs.catchUp.p50, 1), fmt(r.queryMs.catchUp.p99, 1)]]);
  writeResult('index-lag', { data: { docs: r.docs, dim: DIM, batch: BATCH, writers: WRITERS, centers: CENTERS, flushDocs: FLUSH_DOCS }, piece, run: r });
}

await main();
