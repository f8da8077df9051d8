// Top-k BM25 over block-compressed postings with MaxScore and per-block maximum scores (Turtle &
// Flood's MaxScore over block windows, as Lucene 9's MaxScoreBulkScorer runs it), giving exactly
// the rows and scores of the exhaustive scorer (index-view.ts scoreViewRows):
//
// - Rows are visited in windows: the stretch that every clause's current block covers. A clause's
//   bound in a window is its block's BM25 at (max tf, min norm) under this query's collection
//   statistics. A window whose bounds sum to at most the k-th best score is skipped undecoded.
// - Otherwise clauses are sorted by bound; the smallest ones whose bounds sum to at most the
//   k-th score are "non-essential": no row matching only them can enter the top k. Rows of the
//   essential clauses are scored; a row whose score plus the non-essential bounds cannot beat
//   the k-th is dropped before the non-essential clauses are advanced to it.
// - Scores are summed in the exhaustive scorer's order (field by field, clause by clause), so
//   they are bit for bit the same, and bounds carry a relative slack far above rounding error.
// - Exact ties: the sink keeps the lower key among equal scores, and rows are offered in
//   ascending key order, so a row whose bound only equals the k-th score can never enter.
//   Callers must offer sources in ascending key order too (the executor does).
import { avgFieldLength, idf, LENGTH_TABLE, type Bm25Params } from './bm25.ts';
import { NO_MORE_ROWS, type PostingsCursor } from './block-postings.ts';
import type { BlockTextView } from './block-view.ts';
import type { CollectionStats } from './index-view.ts';

/** Where pruned top-k rows go: the executor's TopK heap (keys are ranked ascending on ties). */
export interface TopKSink {
  /** The k-th best score so far, -Infinity until k rows are held. */
  readonly threshold: number;
  push(key: number, score: number): void;
}

/** One field of the query over one segment: its view, analyzed terms and namespace statistics. */
export interface BlockMaxField {
  view: BlockTextView;
  terms: readonly string[];
  stats: CollectionStats;
  params: Bm25Params;
}

const MAX_WINDOW = 4096;
/**
 * Below this many postings per clause and per hit wanted, scoring every posting is faster than
 * MaxScore's bookkeeping: on SciFact (5k rows, ~10 clauses, ~4k postings a query) exhaustive
 * scoring took 0.17–0.22 ms against block-max's 0.23–0.43 ms at k = 10–100; on 100k Zipf rows
 * with two clauses of ~1k postings each, block-max already won (0.13 vs 0.18 ms).
 */
const POSTINGS_PER_CLAUSE_AND_HIT = 64;
/** Bounds are inflated by this factor: rounding in a sum of a few terms is ~1e-15 relative. */
const SLACK = 1 + 1e-9;

interface Clause {
  cursor: PostingsCursor;
  field: number;
  weight: number;
  base: number;
  slope: number;
  norms: Uint8Array;
}

function clausesOf(fields: readonly BlockMaxField[]): Clause[] {
  const clauses: Clause[] = [];
  fields.forEach(({ view, terms, stats, params }, field) => {
    if (stats.docCount <= 0 || terms.length === 0) return;
    const avgdl = avgFieldLength(stats.sumTotalTermFreq, stats.docCount);
    const boost = params.boost ?? 1;
    // The same expressions as scoreViewRows, so every contribution is the same double.
    const base = params.k1 * (1 - params.b);
    const slope = (params.k1 * params.b) / avgdl;
    const counts = new Map<string, number>();
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [term, occurrences] of counts) {
      const df = stats.docFreq(term);
      if (df <= 0) continue;
      const cursor = view.cursor(term);
      if (cursor === undefined) continue;
      clauses.push({ cursor, field, weight: boost * idf(df, stats.docCount) * occurrences, base, slope, norms: view.norms });
    }
  });
  return clauses;
}

// Per-window scratch, reused across queries rather than allocated per query (n × 4,096 doubles:
// ≈400 KB for a 12-term query). Every entry is reset after use; queries run one at a time on a
// thread. It keeps the size of the longest query seen (9 bytes × 4,096 per clause).
let shared = {
  contrib: new Float64Array(0), has: new Uint8Array(0),
  partial: new Float64Array(MAX_WINDOW), seen: new Uint8Array(MAX_WINDOW),
  candidates: new Uint32Array(MAX_WINDOW), touched: new Uint32Array(MAX_WINDOW),
};

function scratch(cells: number): typeof shared {
  if (shared.contrib.length < cells) shared = { ...shared, contrib: new Float64Array(cells), has: new Uint8Array(cells) };
  return shared;
}

/** Whether block-max top-k is worth it over scoring every posting of these clauses for k hits. */
export function blockMaxPays(fields: readonly BlockMaxField[], k: number): boolean {
  let postings = 0;
  let clauses = 0;
  for (const { view, terms } of fields) {
    for (const term of new Set(terms)) {
      const entry = view.entry(term);
      if (entry === null) continue;
      postings += entry.docFreq;
      clauses++;
    }
  }
  return postings >= POSTINGS_PER_CLAUSE_AND_HIT * k * clauses;
}

function blockBound(c: Clause, b: number): number {
  const tf = c.cursor.maxTf(b);
  return (c.weight * tf) / (tf + c.base + c.slope * LENGTH_TABLE[c.cursor.minNorm(b)]!);
}

/**
 * Offers to `top` (as keyBase + row) every row of one segment that can still enter its top k,
 * with its exact score summed over the fields. accept filters rows (filters); dead rows are
 * skipped through the views. Every field's view must be over the same segment.
 */
export function blockMaxTopK(fields: readonly BlockMaxField[], top: TopKSink, keyBase: number, accept?: (row: number) => boolean): void {
  const clauses = clausesOf(fields);
  const n = clauses.length;
  if (n === 0) return;
  const view = fields[0]!.view;
  const width = Math.min(MAX_WINDOW, view.index.rows);
  const { contrib, has, partial, seen, candidates, touched } = scratch(n * width);
  const bound = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const upTo = new Float64Array(n + 1); // upTo[i]: bounds of order[0, i) summed
  const lengths = LENGTH_TABLE;
  let threshold = top.threshold;
  const drop = (w: number): void => {
    has.fill(0, w * n, w * n + n);
    partial[w] = 0;
  };

  let start = 0;
  for (;;) {
    let next = NO_MORE_ROWS;
    for (const c of clauses) {
      c.cursor.shallowAdvance(start);
      const lb = c.cursor.lowerBound();
      if (lb < next) next = lb;
    }
    if (next >= NO_MORE_ROWS) return;
    start = next;
    let end = start + width;
    for (const c of clauses) {
      c.cursor.shallowAdvance(start);
      if (c.cursor.block < c.cursor.blocks) end = Math.min(end, c.cursor.lastRow(c.cursor.block) + 1);
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const cur = clauses[i]!.cursor;
      bound[i] = cur.block < cur.blocks && cur.lowerBound() < end ? blockBound(clauses[i]!, cur.block) : 0;
      total += bound[i]!;
    }
    if (total * SLACK <= threshold) {
      start = end;
      continue;
    }

    // Insertion sort by bound: a query has a handful of clauses.
    for (let i = 1; i < n; i++) {
      const x = order[i]!;
      let j = i - 1;
      while (j >= 0 && bound[order[j]!]! > bound[x]!) { order[j + 1] = order[j]!; j--; }
      order[j + 1] = x;
    }
    for (let i = 0; i < n; i++) upTo[i + 1] = upTo[i]! + bound[order[i]!]!;
    let firstEssential = 0;
    while (firstEssential < n && upTo[firstEssential + 1]! * SLACK <= threshold) firstEssential++;

    // 1. Every row of the essential clauses in the window.
    let t = 0;
    for (let i = firstEssential; i < n; i++) {
      const ci = order[i]!;
      const c = clauses[ci]!;
      const cur = c.cursor;
      for (let row = cur.advance(start); row < end; row = cur.next()) {
        const w = row - start;
        const tf = cur.tf();
        const s = (c.weight * tf) / (tf + c.base + c.slope * lengths[c.norms[row]!]!);
        contrib[w * n + ci] = s;
        has[w * n + ci] = 1;
        partial[w] = partial[w]! + s;
        if (seen[w] === 0) {
          seen[w] = 1;
          touched[t++] = w;
        }
      }
    }
    // 2. Candidates, ascending: live, accepted, and able to beat the k-th with every bound. A
    //    window of rare terms spans thousands of rows for a few postings: sort what was touched
    //    rather than scan the span.
    const span = end - start;
    if (t * 8 < span) touched.subarray(0, t).sort();
    else {
      t = 0;
      for (let w = 0; w < span; w++) if (seen[w] === 1) touched[t++] = w;
    }
    let m = 0;
    for (let j = 0; j < t; j++) {
      const w = touched[j]!;
      seen[w] = 0;
      const row = start + w;
      if ((partial[w]! + upTo[firstEssential]!) * SLACK > threshold && view.isLive(row) && (accept === undefined || accept(row))) {
        candidates[m++] = w;
      } else drop(w);
    }
    // 3. Non-essential clauses, largest bound first, merged into the candidates that can still
    //    make it with the clauses left (one pass over the window, not one seek per candidate).
    for (let i = firstEssential - 1; i >= 0 && m > 0; i--) {
      let kept = 0;
      for (let j = 0; j < m; j++) {
        const w = candidates[j]!;
        if ((partial[w]! + upTo[i + 1]!) * SLACK > threshold) candidates[kept++] = w;
        else drop(w);
      }
      m = kept;
      const ci = order[i]!;
      const c = clauses[ci]!;
      const cur = c.cursor;
      let j = 0;
      let row = m > 0 ? cur.advance(start + candidates[0]!) : NO_MORE_ROWS;
      while (j < m && row < end) {
        const target = start + candidates[j]!;
        if (row < target) row = cur.advance(target);
        else if (row > target) j++;
        else {
          const w = candidates[j++]!;
          const tf = cur.tf();
          const s = (c.weight * tf) / (tf + c.base + c.slope * lengths[c.norms[row]!]!);
          contrib[w * n + ci] = s;
          has[w * n + ci] = 1;
          partial[w] = partial[w]! + s;
          row = cur.next();
        }
      }
    }
    // 4. Exact scores, in the exhaustive scorer's order: per field 0 + s1 + s2 …, then the field
    //    sums added in field order.
    for (let j = 0; j < m; j++) {
      const w = candidates[j]!;
      if (partial[w]! * SLACK <= threshold) {
        drop(w);
        continue;
      }
      partial[w] = 0;
      let score = 0;
      let field = -1;
      let sub = 0;
      let subHas = false;
      let any = false;
      for (let ci = 0; ci < n; ci++) {
        const c = clauses[ci]!;
        if (c.field !== field) {
          if (subHas) { score = (any ? score : 0) + sub; any = true; }
          field = c.field;
          sub = 0;
          subHas = false;
        }
        const at = w * n + ci;
        if (has[at] === 1) {
          has[at] = 0;
          sub = sub + contrib[at]!;
          subHas = true;
        }
      }
      if (subHas) { score = (any ? score : 0) + sub; any = true; }
      if (any) {
        top.push(keyBase + start + w, score);
        threshold = top.threshold;
      }
    }
    start = end;
  }
}
