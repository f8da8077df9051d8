// Runs a parsed query over row sources (the memtable now, segments later): exact vector search,
// BM25 with collection-wide statistics, and reciprocal rank fusion for hybrid queries.
import type { FullTextOptions, NamespaceSchema, VectorMetric } from '../schema/types.ts';
import type { RowSource } from '../segment/row-source.ts';
import { createAnalyzer } from '../segment/text/analyzer.ts';
import { BlockTextView } from '../segment/text/block-view.ts';
import { blockMaxPays, blockMaxTopK } from '../segment/text/block-max.ts';
import { combineStats, scoreViewRows, viewsWithTerms } from '../segment/text/index-view.ts';
import type { ParsedQuery } from './request.ts';
import { filterBitmap, mayMatchRanges, type CompiledFilter } from './filter/index.ts';
import { TopK } from './topk.ts';
import { norm, scoreOfDistance } from '../segment/distance.ts';
import { scanExact } from './exact-scan.ts';
import { bestCandidates, nprobeOfEf, rerankDepth, type Candidates } from '../segment/ivf-search.ts';
import { probesAcross, type RankClusters, type RankDirectory } from '../segment/ivf-centroids.ts';

export const RRF_K = 60;

export interface Hit {
  source: RowSource;
  row: number;
  /** Ranking score, higher is better (similarity, BM25, or fused RRF score). */
  score: number;
  distance?: number;
  bm25?: number;
}

// Sources × rows packed into one number for the heaps: 2^32 rows per source.
const ROW_SPACE = 2 ** 32;

const analyzers = new WeakMap<FullTextOptions, (text: string) => string[]>();
function analyzerFor(opts: FullTextOptions): (text: string) => string[] {
  let a = analyzers.get(opts);
  if (!a) {
    a = createAnalyzer(opts);
    analyzers.set(opts, a);
  }
  return a;
}

/** False when the source's column ranges prove no row can match the filter. */
function mayMatch(source: RowSource, filter: CompiledFilter | null): boolean {
  return !filter || !source.columnRanges || mayMatchRanges(filter.ast, source.columnRanges());
}

interface Acceptor {
  accept: (row: number) => boolean;
  /** Rows the filter accepts (deleted ones included), when known without a scan. */
  matches?: number;
  /** Those rows, ascending; callers still check liveness. */
  rows?: Int32Array;
}

function acceptor(source: RowSource, filter: CompiledFilter | null): Acceptor {
  if (!filter) return { accept: (row) => source.isLive(row) };
  const read = source.attributeReader?.(filter.fields) ?? ((row: number) => source.attributes(row));
  // Decoding an id costs an allocation per row; only filters on "id" need it.
  const idOf = filter.fields.has('id') ? (row: number) => source.id(row) : () => 0n;
  if (!source.numericColumn || !source.memo) {
    return { accept: (row) => source.isLive(row) && filter.match({ id: idOf(row), attributes: read(row) }) };
  }
  // Columnar sources: the filter over all rows at once, vectorized where it can be, cached per
  // segment (rows never change; liveness is checked at use).
  const { bits, rows } = source.memo!(filterKey(filter.ast), () => {
    const bits = filterBitmap(filter.ast, {
      rows: source.rowCount,
      numericColumn: (name) => source.numericColumn!(name),
      doc: (row) => ({ id: idOf(row), attributes: read(row) }),
    });
    const rows = new Int32Array(bits.length);
    let n = 0;
    for (let row = 0; row < bits.length; row++) if (bits[row] === 1) rows[n++] = row;
    return { bits, rows: rows.subarray(0, n) };
  });
  return { accept: (row) => bits[row] === 1 && source.isLive(row), matches: rows.length, rows };
}

/** The live rows of `source` that `filter` matches, ascending (e.g. for delete by filter). */
export function matchingRows(source: RowSource, filter: CompiledFilter): number[] {
  if (source.rowCount === 0 || !mayMatch(source, filter)) return [];
  const { accept, rows } = acceptor(source, filter);
  const out: number[] = [];
  if (rows) {
    for (const row of rows) if (source.isLive(row)) out.push(row);
  } else {
    for (let row = 0; row < source.rowCount; row++) if (accept(row)) out.push(row);
  }
  return out;
}

/** A filter's cache key: its normalized AST (u64 ids are bigints, so they are written out). */
function filterKey(ast: unknown): string {
  return JSON.stringify(ast, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

// How a filtered segment is searched, by the number of rows the filter accepts:
// - few (≤ EXACT_BUDGET / dim): exact distances over exactly those rows;
// - many (≥ OVERFETCH_SELECTIVITY of the rows): plain HNSW for proportionally more neighbours,
//   then the filter, falling back to the next rule when fewer than top_k survive;
// - otherwise HNSW with the filter as its acceptance test (filter-aware traversal).
// hnswlib calls the acceptance test back into JS for every candidate it visits, so the first
// two avoid it where they can (measured on GloVe-100 50k: docs/benchmarks.md).
const EXACT_BUDGET = 300_000;
const OVERFETCH_SELECTIVITY = 0.05;
const SELECTIVITY_SAMPLE = 256;

/** Rows of `source` that the acceptor allows: exact when known, else from an even sample. */
function estimateMatches(source: RowSource, { accept, matches }: Acceptor): number {
  if (matches !== undefined) return matches;
  const n = source.rowCount;
  if (n <= SELECTIVITY_SAMPLE) return n;
  const step = n / SELECTIVITY_SAMPLE;
  let hits = 0;
  for (let i = 0; i < SELECTIVITY_SAMPLE; i++) if (accept(Math.floor(i * step))) hits++;
  return (hits / SELECTIVITY_SAMPLE) * n;
}

export interface VectorSearchOptions {
  /** HNSW search breadth; raised to k when smaller. */
  ef: number;
  /** IVF clusters probed: of all IVF segments together without a filter, per segment with one (sourceProbes); derived from ef when absent. */
  nprobe?: number;
  /** Matching rows × dimensions up to which a filtered segment is searched exactly. */
  exactBudget?: number;
}

export async function vectorSearch(schema: NamespaceSchema, sources: RowSource[], q: ParsedQuery, k: number, opts: VectorSearchOptions): Promise<Hit[]> {
  const query = q.vector!;
  const qNorm = norm(query);
  // Every source is searched at once: an IVF segment's scan waits on the query pool (and its
  // blocks on storage), so the segments of a namespace overlap instead of adding up. Each keeps
  // its own top k, merged in source order (TopK ties by key, so the merge is exact). IVF
  // segments hand back code estimates instead, re-ranked together below.
  // Not awaited here: every other source is searched in this same turn, before a merge's commit
  // can close its reader (an HNSW segment cannot be searched once closed).
  const probing = q.filter ? null : sourceProbes(schema.vector_metric, sources, query, opts.nprobe ?? nprobeOfEf(Math.max(opts.ef, k)));
  const perSource = await Promise.all(sources.map(async (source, s): Promise<TopK | Candidates | null> => {
    if (source.rowCount === 0 || !mayMatch(source, q.filter)) return null;
    const top = new TopK(k);
    const acc = acceptor(source, q.filter);
    const accept = acc.accept;
    if (source.annSearch) {
      const ef = Math.max(opts.ef, k);
      let found: { rows: number[]; distances: number[] } | null = null;
      if (!q.filter) {
        const probes = source.annCandidates && probing !== null ? await probing : null;
        if (source.annCandidates && probes !== null) {
          const probe = probes.get(s);
          return probe === undefined ? null : source.annCandidates(query, k, ef, undefined, opts.nprobe, probe);
        }
        found = await source.annSearch(query, k, ef, undefined, opts.nprobe);
      } else if (source.filtersInScan) {
        // A filter costs nothing extra inside an IVF scan, which widens its probe until enough
        // accepted rows are found; the exact path stays for filters that accept few rows.
        if (estimateMatches(source, acc) * query.length > (opts.exactBudget ?? EXACT_BUDGET)) {
          if (source.annCandidates) return source.annCandidates(query, k, ef, accept, opts.nprobe);
          found = await source.annSearch(query, k, ef, accept, opts.nprobe);
        }
      } else {
        const matches = estimateMatches(source, acc);
        if (matches * query.length > (opts.exactBudget ?? EXACT_BUDGET)) {
          if (matches >= OVERFETCH_SELECTIVITY * source.rowCount) {
            const wide = Math.min(source.rowCount, Math.ceil((k * source.rowCount * 3) / Math.max(matches, 1)));
            const kept = source.annThenFilter!(query, wide, Math.max(ef, wide), accept);
            if (kept.rows.length >= k) found = kept;
          }
          found ??= await source.annSearch(query, k, ef, accept);
        }
      }
      if (found) return topOf(found, k, s);
    }
    const candidates: number[] = [];
    if (acc.rows) {
      for (const row of acc.rows) if (source.isLive(row)) candidates.push(row);
    } else {
      for (let row = 0; row < source.rowCount; row++) if (accept(row)) candidates.push(row);
    }
    // An IVF segment reads only the clusters holding the candidates.
    const vectors = source.vectorsOf ? await source.vectorsOf(candidates) : null;
    const data = vectors?.data ?? source.vectorData();
    const offsetOf = vectors ? (row: number) => vectors.offset(row) : (row: number) => source.vectorOffset(row);
    scanExact({ metric: schema.vector_metric, query, qNorm, data, rows: candidates, offsetOf, normOf: (row) => source.vectorNorm(row), keyBase: s * ROW_SPACE }, top);
    return top;
  }));
  const top = new TopK(k);
  for (const part of await rerankAcross(sources, perSource, query, k)) for (const { key, score } of part?.sorted() ?? []) top.push(key, score);
  return top.sorted().map(({ key, score }) => ({
    source: sources[Math.floor(key / ROW_SPACE)]!,
    row: key % ROW_SPACE,
    distance: -score,
    score: scoreOfDistance(schema.vector_metric, -score),
  }));
}

/**
 * Without a filter, a namespace's IVF segments are probed as one index: the nprobe clusters
 * nearest the query among all their centroids (ivf-centroids.ts probesAcross, on the query pool
 * when there is one), each segment then scanning only its own of them, none at all when it has
 * none. With a probe of nprobe clusters in each segment instead, a query over 4 segments
 * scanned 4 × nprobe clusters for what one segment answers from nprobe. With a filter, each
 * segment widens its own probe until enough accepted rows are scanned (ivf-search.ts). Source
 * index → clusters; null when no source is an IVF segment.
 */
async function sourceProbes(metric: VectorMetric, sources: readonly RowSource[], query: Float32Array, nprobe: number): Promise<Map<number, number[]> | null> {
  const ivf: Array<{ s: number; id: string; dir: RankDirectory; rank: RankClusters }> = [];
  sources.forEach((source, s) => {
    const c = source.rowCount > 0 ? source.ivfCentroids?.() : null;
    if (c) ivf.push({ s, ...c });
  });
  if (ivf.length === 0) return null;
  const chosen = await probesAcross(ivf, metric, query, nprobe, ivf[0]!.rank);
  return new Map([...chosen].map(([x, clusters]) => [x.s, clusters]));
}

function topOf({ rows, distances }: { rows: number[]; distances: number[] }, k: number, s: number): TopK {
  const top = new TopK(k);
  rows.forEach((row, i) => {
    if (i < k) top.push(s * ROW_SPACE + row, -distances[i]!);
  });
  return top;
}

/**
 * One exact re-rank for all IVF segments of a query: the best rerankDepth(k) code estimates
 * across them, each segment re-ranking its share, where re-ranking each segment's own best
 * made a query over 8 segments read and compare 8× the vectors (bench scale; the profile in
 * docs/benchmarks.md "rerank"). One segment re-ranks exactly what it did alone.
 */
async function rerankAcross(sources: RowSource[], parts: ReadonlyArray<TopK | Candidates | null>, query: Float32Array, k: number): Promise<Array<TopK | null>> {
  const ivf = parts.flatMap((p, s) => (p === null || p instanceof TopK ? [] : [s]));
  if (ivf.length === 0) return parts as Array<TopK | null>;
  const shares = bestCandidates(ivf.map((s) => parts[s] as Candidates), rerankDepth(k));
  const out = parts.slice() as Array<TopK | null>;
  await Promise.all(ivf.map(async (s, i) => {
    const { rows, slots } = shares[i]!;
    out[s] = rows.length === 0 ? null : topOf(await sources[s]!.annRerank!(query, k, rows, slots), k, s);
  }));
  return out;
}

export interface TextSearchOptions {
  /**
   * How segments in text format 2 are scored: 'auto' (block-max top-k when blockMaxPays), or
   * always / never block-max (tests and benchmarks compare them; the results are identical).
   */
  blockMax?: 'auto' | 'always' | 'never';
}

export async function textSearch(schema: NamespaceSchema, sources: RowSource[], q: ParsedQuery, k: number, opts: TextSearchOptions = {}): Promise<Hit[]> {
  const mode = opts.blockMax ?? 'auto';
  const ft = q.fullText!;
  const top = new TopK(k);
  // Segments read their dictionaries and postings by range: the query's own terms are fetched
  // first, every field and segment at once (two rounds of reads), then scoring runs synchronously.
  const fields = (await Promise.all(ft.fields.map(async ({ field, weight }) => {
    const opts = schema.attributes[field]!.full_text!;
    const terms = analyzerFor(opts)(ft.query);
    if (terms.length === 0) return [];
    const views = await viewsWithTerms(sources.map((s) => s.textIndex(field)), terms);
    const stats = combineStats(views.filter((v) => v !== undefined));
    return [{ terms, views, stats, params: { k1: opts.k1, b: opts.b, boost: weight } }];
  }))).flat();
  // Sources in order and, within a segment, rows ascending: block-max top-k relies on it to
  // break ties exactly as the heap does (lower key first).
  sources.forEach((source, s) => {
    if (!mayMatch(source, q.filter)) return;
    const present = fields.filter((f) => f.views[s] !== undefined);
    if (present.length === 0) return;
    const accept = acceptor(source, q.filter).accept;
    if (mode !== 'never' && present.every((f) => f.views[s] instanceof BlockTextView)) {
      const blockFields = present.map((f) => ({ view: f.views[s] as BlockTextView, terms: f.terms, stats: f.stats, params: f.params }));
      if (mode === 'always' || blockMaxPays(blockFields, k)) {
        blockMaxTopK(blockFields, top, s * ROW_SPACE, accept);
        return;
      }
    }
    // The tail, segments in text format 1, and short postings: every posting scored. One field goes straight
    // into the heap; several are summed per row first, field by field.
    const totals = present.length > 1 ? new Map<number, number>() : null;
    for (const f of present) {
      const { rows, scores } = scoreViewRows(f.views[s]!, f.terms, f.stats, f.params, accept);
      for (let i = 0; i < rows.length; i++) {
        const key = s * ROW_SPACE + rows[i]!;
        if (totals) totals.set(key, (totals.get(key) ?? 0) + scores[i]!);
        else top.push(key, scores[i]!);
      }
    }
    if (totals) for (const [key, score] of totals) top.push(key, score);
  });
  return top.sorted().map(({ key, score }) => ({
    source: sources[Math.floor(key / ROW_SPACE)]!,
    row: key % ROW_SPACE,
    score,
    bm25: score,
  }));
}

/** Reciprocal rank fusion: Σ weight / (60 + rank), ranks from 1. */
export function fuse(vectorHits: Hit[], textHits: Hit[], vectorWeight: number, textWeight: number, k: number): Hit[] {
  const byRow = new Map<RowSource, Map<number, Hit>>();
  const entry = (h: Hit): Hit => {
    let rows = byRow.get(h.source);
    if (!rows) byRow.set(h.source, (rows = new Map()));
    let e = rows.get(h.row);
    if (!e) rows.set(h.row, (e = { source: h.source, row: h.row, score: 0 }));
    return e;
  };
  vectorHits.forEach((h, i) => {
    const e = entry(h);
    e.score += vectorWeight / (RRF_K + i + 1);
    e.distance = h.distance;
  });
  textHits.forEach((h, i) => {
    const e = entry(h);
    e.score += textWeight / (RRF_K + i + 1);
    e.bm25 = h.bm25;
  });
  const all: Hit[] = [];
  for (const rows of byRow.values()) all.push(...rows.values());
  // Ties (same fused score) fall back to the better component so the order is stable.
  all.sort((a, b) => (b.score - a.score) || ((a.distance ?? Infinity) - (b.distance ?? Infinity)) || ((b.bm25 ?? 0) - (a.bm25 ?? 0)));
  return all.slice(0, k);
}

export async function executeQuery(schema: NamespaceSchema, sources: RowSource[], q: ParsedQuery, opts: VectorSearchOptions): Promise<Hit[]> {
  if (q.vector && !q.fullText) return vectorSearch(schema, sources, q, q.topK, opts);
  if (!q.vector && q.fullText) return textSearch(schema, sources, q, q.topK);
  // Each list goes deeper than top_k so documents ranked well by only one side still fuse in.
  const depth = Math.max(q.topK * 2, 100);
  const [vectorHits, textHits] = await Promise.all([vectorSearch(schema, sources, q, depth, opts), textSearch(schema, sources, q, depth)]);
  return fuse(
    vectorHits,
    textHits,
    q.vectorWeight,
    q.fullText!.weight,
    q.topK,
  );
}
