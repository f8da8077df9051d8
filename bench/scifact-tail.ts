// The write tail under load: SciFact's corpus repeated to ~100k documents, upserted into one
// MemTextIndex in batches of 1,000 with queries run between batches (DESIGN.md §3, §5: the tail
// is searched exhaustively). 10% of each batch re-upserts an earlier document, which removes
// its old row and adds a new one, as the memtable does.
//
//   npx tsx --expose-gc bench/scifact-tail.ts      (node --expose-gc for the memory figure)
//
// Prints a table and writes bench/results/scifact-tail.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAnalyzer } from '../src/segment/text/analyzer.ts';
import { combineStats, scoreViewRows } from '../src/segment/text/index-view.ts';
import { MemTextIndex } from '../src/segment/text/mem-index.ts';
import { TopKCollector } from '../src/segment/text/top-k.ts';
import { beirAvailable, loadBeir } from './lib/beir.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(ROOT, '../shared/data/scifact');
const OUT = join(ROOT, 'bench/results/scifact-tail.json');
const TARGET_DOCS = 100_000;
const BATCH = 1_000;

function quantiles(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0 };
}

/** JS heap plus ArrayBuffers (the postings live in typed arrays, outside the heap). */
function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

async function main(): Promise<void> {
  if (!beirAvailable(DATA)) {
    console.log(`SciFact not found at ${DATA}; skipping.`);
    return;
  }
  const data = loadBeir(DATA, 'test');
  const texts = data.corpus.map((d) => `${d.title} ${d.text}`);
  const queries = data.queries.map((q) => q.text);
  const analyze = createAnalyzer({
    language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.2, b: 0.75,
  });
  const params = { k1: 1.2, b: 0.75 };

  const heapBefore = heapMb();
  const idx = new MemTextIndex(analyze);
  const rowOfDoc = new Map<number, number>(); // logical document → its current row
  let nextRow = 0;
  let nextDoc = 0;
  const batchMs: number[] = [];
  const queryMs: number[] = [];
  const lateQueryMs: number[] = [];
  let qi = 0;
  while (nextDoc < TARGET_DOCS) {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) {
      // Every tenth write re-upserts an earlier document: its old row goes, a new row comes.
      const reupsert = i % 10 === 9 && nextDoc > BATCH;
      const doc = reupsert ? (nextDoc * 7919) % nextDoc : nextDoc++;
      const old = rowOfDoc.get(doc);
      if (old !== undefined) idx.remove(old);
      const row = nextRow++;
      idx.add(row, texts[doc % texts.length]!);
      rowOfDoc.set(doc, row);
    }
    batchMs.push(performance.now() - t0);
    for (let j = 0; j < 10; j++) {
      const q = queries[qi++ % queries.length]!;
      const t1 = performance.now();
      const terms = analyze(q);
      const top = new TopKCollector(10);
      top.offerAll(scoreViewRows(idx, terms, combineStats([idx]), params));
      top.result();
      const ms = performance.now() - t1;
      queryMs.push(ms);
      if (nextDoc >= TARGET_DOCS - 10 * BATCH) lateQueryMs.push(ms);
    }
  }
  const heapAfter = heapMb();
  const stats = idx.stats();

  // A full pass of all test queries over the final tail.
  const finalMs: number[] = [];
  for (const q of queries) {
    const t1 = performance.now();
    const top = new TopKCollector(10);
    top.offerAll(scoreViewRows(idx, analyze(q), combineStats([idx]), params));
    top.result();
    finalMs.push(performance.now() - t1);
  }

  const result = {
    benchmark: 'scifact-tail',
    command: 'npx tsx --expose-gc bench/scifact-tail.ts',
    date: new Date().toISOString(),
    node: process.version,
    docs: stats.docCount,
    rows: nextRow,
    batch: BATCH,
    batchMs: quantiles(batchMs),
    docsPerSecond: Math.round((nextRow / batchMs.reduce((a, x) => a + x, 0)) * 1000),
    queryMsDuringIngest: quantiles(queryMs),
    queryMsLast10Batches: quantiles(lateQueryMs),
    queryMsFinal: quantiles(finalMs),
    heapMb: Math.round(heapAfter - heapBefore),
    memoryMeasured: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
  const f = (x: number) => x.toFixed(2);
  console.log(`${result.docs} live docs in ${result.rows} rows, batches of ${BATCH} (10% re-upserts)`);
  console.log(`batch add   p50 ${f(result.batchMs.p50)} ms  p95 ${f(result.batchMs.p95)} ms  (${result.docsPerSecond} docs/s)`);
  console.log(`query top10 during ingest p50 ${f(result.queryMsDuringIngest.p50)} ms  p95 ${f(result.queryMsDuringIngest.p95)} ms`);
  console.log(`query top10 last 10 batches p50 ${f(result.queryMsLast10Batches.p50)} ms  p95 ${f(result.queryMsLast10Batches.p95)} ms`);
  console.log(`query top10 final (300 queries) p50 ${f(result.queryMsFinal.p50)} ms  p95 ${f(result.queryMsFinal.p95)} ms`);
  console.log(`memory (heap + array buffers): ${result.heapMb} MB${result.memoryMeasured ? '' : ' (run with --expose-gc for a stable figure)'}`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${OUT}`);
}

await main();
