// fulltext-zipf: one segment of 1M synthetic documents whose terms follow Zipf's law, queried
// with two-term OR queries for the top 10 through the executor (textSearch), in text format 1
// (plain u32 postings, every posting scored: the format before issue 9) and text format 2 (block
// postings, block-max top-k), in the same run. Both must return the same rows and scores.
// Format 2 is read as a segment reads it: by range (text/block-reader.ts), the query's terms
// fetched first, decoded parts kept in a memory tier; a loaded section is timed beside it. Cold
// figures: a fresh open and one query with an empty memory tier, every range read counted, with
// a simulated round trip per read so that sequential rounds can be told apart.
//
// The field is inverted directly from generated term ids (no text analysis: 40M tokens through
// the analyzer would take minutes here), then encoded by the segment's own encoders, exactly as
// a flush or merge writes a 1M-row segment (max_total_docs); going through HTTP would measure
// ingest and index builds, not queries.
//
//   npm run bench -- fulltext-zipf      (or: npx tsx bench/fulltext-zipf.ts [--docs N] [--queries N] [--passes N])
import { parseArgs } from 'node:util';
import { textSearch, type TextSearchOptions } from '../src/query/executor.ts';
import type { ParsedQuery } from '../src/query/request.ts';
import type { FullTextOptions, NamespaceSchema } from '../src/schema/types.ts';
import type { RowSource } from '../src/segment/row-source.ts';
import { intToByte4 } from '../src/segment/text/bm25.ts';
import { MemoryCache } from '../src/cache/memory-cache.ts';
import { encodeBlockInverted } from '../src/segment/text/block-index.ts';
import { BlockTextIndex, loadedSection, type TextPart, type TextSectionBytes } from '../src/segment/text/block-reader.ts';
import { DiskTextIndex, encodeInvertedV1, type InvertedField } from '../src/segment/text/disk-index.ts';
import type { TextIndexView } from '../src/segment/text/index-view.ts';
import { fmt, printTable, verdict, writeResult } from './lib/report.ts';
import { median, summarize } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    vocab: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '50' },
    passes: { type: 'string', default: '3' },
  },
});
const DOCS = Number(args.docs);
const VOCAB = Number(args.vocab);
const PER_CLASS = Number(args.queries);
const PASSES = Number(args.passes);
const K = 10;
const TARGET_P50_MS = 5;
/** Simulated latency of one ranged read in the cold runs (what it is does not change the counts). */
const COLD_READ_MS = 2;

const BODY: FullTextOptions = { language: 'none', stemming: false, remove_stopwords: false, case_sensitive: false, k1: 1.2, b: 0.75 };
const SCHEMA: NamespaceSchema = { vector_dim: 1, vector_metric: 'l2', attributes: { body: { type: 'string', full_text: BODY, filterable: false } } };

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Vose's alias table for Zipf (s = 1) over ranks 0..n−1: one draw is O(1). */
function zipfSampler(n: number): (rand: () => number) => number {
  const p = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
  const sum = p.reduce((a, x) => a + x, 0);
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = p.map((x) => (x / sum) * n);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((x, i) => (x < 1 ? small : large).push(i));
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) prob[i] = 1;
  return (rand) => {
    const i = Math.floor(rand() * n);
    return rand() < prob[i]! ? i : alias[i]!;
  };
}

/** Documents of 10–69 Zipf-drawn tokens, inverted: two passes over the same random stream. */
function generate(): InvertedField {
  const draw = zipfSampler(VOCAB);
  const df = new Uint32Array(VOCAB);
  const lengths = new Uint32Array(DOCS);
  const tmp = new Uint32Array(70);
  let postingRows = new Uint32Array(0);
  let postingTfs = new Uint32Array(0);
  const postingStarts = new Uint32Array(VOCAB + 1);
  let cursor = new Uint32Array(0);
  for (const fill of [false, true]) {
    const rand = lcg(42);
    for (let row = 0; row < DOCS; row++) {
      const len = 10 + Math.floor(rand() * 60);
      for (let i = 0; i < len; i++) tmp[i] = draw(rand);
      const ids = tmp.subarray(0, len).sort();
      lengths[row] = len;
      for (let i = 0; i < len;) {
        let j = i + 1;
        while (j < len && ids[j] === ids[i]) j++;
        if (fill) {
          const at = cursor[ids[i]!]!++;
          postingRows[at] = row;
          postingTfs[at] = j - i;
        } else df[ids[i]!]!++;
        i = j;
      }
    }
    if (!fill) {
      for (let t = 0; t < VOCAB; t++) postingStarts[t + 1] = postingStarts[t]! + df[t]!;
      postingRows = new Uint32Array(postingStarts[VOCAB]!);
      postingTfs = new Uint32Array(postingStarts[VOCAB]!);
      cursor = postingStarts.slice(0, VOCAB);
    }
  }
  // Terms that never occur are left in the dictionary with no postings removed: drop them.
  const kept = Array.from({ length: VOCAB }, (_, t) => t).filter((t) => df[t]! > 0);
  const starts = new Uint32Array(kept.length + 1);
  kept.forEach((t, i) => (starts[i + 1] = starts[i]! + df[t]!));
  return {
    rows: DOCS,
    terms: kept.map((t) => Buffer.from(termName(t))),
    postingStarts: starts,
    postingRows, // kept terms' postings are contiguous and in order: empty terms hold none
    postingTfs,
    lengths,
    norms: Uint8Array.from(lengths, (l) => intToByte4(l)),
    stats: { docCount: DOCS, sumTotalTermFreq: lengths.reduce((a, l) => a + l, 0) },
  };
}

/** Zero-padded, so that dictionary (byte) order is rank order. */
function termName(rank: number): string {
  return `t${String(rank).padStart(6, '0')}`;
}

function source(view: TextIndexView): RowSource {
  return { rowCount: DOCS, isLive: () => true, textIndex: () => view } as Partial<RowSource> as RowSource;
}

/** Reads of the section, unverified as ranged reads are, each counted with its round. */
class CountingSection implements TextSectionBytes {
  readonly verified = false;
  reads = 0;
  bytes = 0;
  /** Sequential rounds: a read issued after another completed is one round later. */
  rounds = 0;
  constructor(private readonly whole: Uint8Array, private readonly delayMs = 0) {}
  get length(): number {
    return this.whole.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const round = this.rounds + 1;
    this.reads++;
    this.bytes += length;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.rounds = Math.max(this.rounds, round);
    // A copy, as a GET returns its own buffer.
    return Buffer.from(this.whole.subarray(offset, offset + length));
  }
  reset(): void {
    this.reads = this.bytes = this.rounds = 0;
  }
}

/** Cold open + one query per class's first query: GETs, bytes and rounds of each, medians. */
async function coldRuns(v2: Uint8Array, stats: InvertedField['stats'], queries: ReadonlyArray<{ cls: string; text: string }>) {
  const runs: Array<{ cls: string; open: [number, number, number]; query: [number, number, number]; ms: number }> = [];
  for (const c of CLASSES) {
    for (const q of queries.filter((x) => x.cls === c.name).slice(0, 5)) {
      const section = new CountingSection(v2, COLD_READ_MS);
      const t0 = performance.now();
      const index = await BlockTextIndex.open(section, 'text:body', { rows: DOCS, stats, cache: new MemoryCache<TextPart>(64 << 20) });
      const open: [number, number, number] = [section.reads, section.bytes, section.rounds];
      section.reset();
      await textSearch(SCHEMA, [source(index.view(new Uint8Array(DOCS).fill(1)))], parsed(q.text), K);
      runs.push({ cls: c.name, open, query: [section.reads, section.bytes, section.rounds], ms: performance.now() - t0 });
    }
  }
  return runs;
}

function parsed(query: string): ParsedQuery {
  return {
    vector: null, topK: K, filter: null, vectorWeight: 1, includeVector: false, includeAttributes: false, ef: null, nprobe: null,
    consistency: 'strong', fullText: { fields: [{ field: 'body', weight: 1 }], query, weight: 1 },
  };
}

const CLASSES = [
  { name: 'frequent + frequent', a: [10, 100], b: [10, 100] },
  { name: 'frequent + rare', a: [10, 100], b: [1000, 10000] },
  { name: 'mid + mid', a: [100, 1000], b: [100, 1000] },
  { name: 'rare + rare', a: [1000, 10000], b: [1000, 10000] },
] as const;

async function main(): Promise<void> {
  let t0 = performance.now();
  const inverted = generate();
  const postings = inverted.postingRows.length;
  console.log(`fulltext-zipf: ${DOCS} docs, ${inverted.terms.length} terms, ${postings} postings, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  const v1 = encodeInvertedV1(inverted).bytes;
  const v1EncodeMs = performance.now() - t0;
  t0 = performance.now();
  const v2 = encodeBlockInverted(inverted).bytes;
  const v2EncodeMs = performance.now() - t0;
  t0 = performance.now();
  const before = new DiskTextIndex(v1, 'text:body').view(new Uint8Array(DOCS).fill(1));
  const v1OpenMs = performance.now() - t0;
  const stats = inverted.stats;
  t0 = performance.now();
  const ranged = new CountingSection(v2);
  const after = (await BlockTextIndex.open(ranged, 'text:body', { rows: DOCS, stats, cache: new MemoryCache<TextPart>(256 << 20) })).view(new Uint8Array(DOCS).fill(1));
  const v2OpenMs = performance.now() - t0;
  const loaded = (await BlockTextIndex.open(loadedSection(v2), 'text:body', { rows: DOCS, stats, cache: new MemoryCache<TextPart>(256 << 20) })).view(new Uint8Array(DOCS).fill(1));
  const paths: Array<{ name: string; sources: RowSource[]; blockMax: TextSearchOptions['blockMax'] }> = [
    { name: 'format 1, exhaustive (before)', sources: [source(before)], blockMax: 'auto' },
    { name: 'format 2, by range, auto (after)', sources: [source(after)], blockMax: 'auto' },
    { name: 'format 2, loaded section, auto', sources: [source(loaded)], blockMax: 'auto' },
    { name: 'format 2, by range, block-max always', sources: [source(after)], blockMax: 'always' },
    { name: 'format 2, by range, exhaustive', sources: [source(after)], blockMax: 'never' },
  ];

  const rand = lcg(7);
  const pick = ([lo, hi]: readonly [number, number]) => lo + Math.floor(rand() * (hi - lo));
  const queries = CLASSES.flatMap((c) => Array.from({ length: PER_CLASS }, () => ({ cls: c.name, text: `${termName(pick(c.a))} ${termName(pick(c.b))}` })));
  let mismatches = 0;
  for (const q of queries) {
    const results = await Promise.all(paths.map(async (p) => JSON.stringify((await textSearch(SCHEMA, p.sources, parsed(q.text), K, { blockMax: p.blockMax })).map((h) => [h.row, h.score]))));
    if (results.some((r) => r !== results[0])) mismatches++;
  }

  // Passes interleave the paths; each figure is the median over passes of that pass's p50.
  const times = paths.map(() => CLASSES.map(() => [] as number[][]));
  const all = paths.map(() => [] as number[][]);
  for (let pass = 0; pass < PASSES; pass++) {
    for (const [pi, p] of paths.entries()) {
      const perClass = CLASSES.map(() => [] as number[]);
      const every: number[] = [];
      for (const q of queries) {
        const q0 = performance.now();
        await textSearch(SCHEMA, p.sources, parsed(q.text), K, { blockMax: p.blockMax });
        const ms = performance.now() - q0;
        perClass[CLASSES.findIndex((c) => c.name === q.cls)]!.push(ms);
        every.push(ms);
      }
      perClass.forEach((ms, ci) => times[pi]![ci]!.push(ms));
      all[pi]!.push(every);
    }
  }
  const p50 = (passes: number[][]) => median(passes.map((ms) => summarize(ms).p50));
  const p99 = (passes: number[][]) => median(passes.map((ms) => summarize(ms).p99));
  const rows = paths.map((p, pi) => [p.name, ...CLASSES.map((_, ci) => fmt(p50(times[pi]![ci]!), 2)), fmt(p50(all[pi]!), 2), fmt(p99(all[pi]!), 2)]);
  printTable(`2-term OR, top ${K}, p50 ms per class (${PER_CLASS} queries each), median of ${PASSES} passes`,
    ['path', ...CLASSES.map((c) => c.name), 'all p50', 'all p99'], rows);
  const afterP50 = p50(all[1]!);
  printTable('segment section', ['format', 'bytes', 'bytes/posting', 'encode ms', 'open ms'], [
    ['1 (u32 postings)', v1.byteLength, fmt(v1.byteLength / postings, 2), fmt(v1EncodeMs, 0), fmt(v1OpenMs, 1)],
    ['2 (blocks)', v2.byteLength, fmt(v2.byteLength / postings, 2), fmt(v2EncodeMs, 0), fmt(v2OpenMs, 1)],
  ]);
  const cold = await coldRuns(v2, stats, queries);
  const med = (f: (r: (typeof cold)[number]) => number, rs = cold) => median(rs.map(f));
  printTable(`cold: open + one query, empty memory tier, ${COLD_READ_MS} ms a read (median of ${cold.length / CLASSES.length} queries a class)`,
    ['class', 'open GETs', 'open KiB', 'open rounds', 'query GETs', 'query KiB', 'query rounds', 'ms', 'share of section'],
    CLASSES.map((c) => {
      const rs = cold.filter((r) => r.cls === c.name);
      const bytes = med((r) => r.open[1] + r.query[1], rs);
      return [c.name, med((r) => r.open[0], rs), fmt(med((r) => r.open[1], rs) / 1024, 1), med((r) => r.open[2], rs),
        med((r) => r.query[0], rs), fmt(med((r) => r.query[1], rs) / 1024, 1), med((r) => r.query[2], rs), fmt(med((r) => r.ms, rs), 1),
        `${fmt((100 * bytes) / v2.byteLength, 3)} %`];
    }));
  console.log(`\nresults identical across paths: ${mismatches === 0 ? 'yes' : `NO, ${mismatches} queries differ`}`);
  console.log(`target: format 2 p50 ≤ ${TARGET_P50_MS} ms: ${fmt(afterP50, 2)} ms, ${verdict(afterP50 <= TARGET_P50_MS)}`);
  writeResult('fulltext-zipf', {
    docs: DOCS, vocab: VOCAB, terms: inverted.terms.length, postings, k: K, passes: PASSES, queriesPerClass: PER_CLASS,
    paths: paths.map((p, pi) => ({
      name: p.name, p50: p50(all[pi]!), p99: p99(all[pi]!),
      classes: Object.fromEntries(CLASSES.map((c, ci) => [c.name, p50(times[pi]![ci]!)])),
    })),
    cold: { readMs: COLD_READ_MS, sectionBytes: v2.byteLength, runs: cold },
    sections: { format1: { bytes: v1.byteLength, encodeMs: v1EncodeMs, openMs: v1OpenMs }, format2: { bytes: v2.byteLength, encodeMs: v2EncodeMs, openMs: v2OpenMs } },
    mismatches,
    target: { p50Ms: TARGET_P50_MS, met: afterP50 <= TARGET_P50_MS && mismatches === 0 },
  });
  if (mismatches > 0) process.exit(1);
}

await main();
