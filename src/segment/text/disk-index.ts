// The first format of a segment's full-text index (`text:{field}` section, text format 1): what
// MemTextIndex holds for the tail, frozen into arrays. Segments are written in text format 2 now
// (block-index.ts); this reader stays for segments written before, which are scored exhaustively.
//
//   u32 rows, u32 terms, u32 postings
//   u32 termOffsets[terms + 1]    into the blob; terms sorted by UTF-8 bytes
//   u32 postingStarts[terms + 1]  term t owns postings [postingStarts[t], postingStarts[t + 1])
//   u32 postingRows[postings]     ascending within a term
//   u32 postingTfs[postings]
//   u32 lengths[rows]             exact token counts (0 = row not indexed)
//   u8  norms[rows]               intToByte4(length), Lucene's norm byte
//   blob                          UTF-8 of the terms
//
// Postings are plain u32 arrays, not delta/varint: postings() then returns zero-copy subarrays,
// and a query pays no decoding. The cost is size (8 bytes a posting instead of ~2–3).
//
// Deletions: a segment never changes, but its rows die as newer writes supersede them. A view
// (view(live)) sees only rows with live[row] === 1 in its postings, docFreq and stats, so a
// document scores the same as it would in a MemTextIndex holding only the live rows.
import type { AttributeValue } from '../../schema/types.ts';
import { SectionCursor, SectionWriter } from '../binary.ts';
import type { Analyzer } from './analyzer.ts';
import { intToByte4 } from './bm25.ts';
import type { Postings, TextIndexView } from './index-view.ts';
import { LiveRowsView, liveStatsOf } from './live-rows.ts';

const LOOKUP_MEMO_SIZE = 65_536;

export interface TextStats {
  docCount: number;
  sumTotalTermFreq: number;
}

/** The tokens of a value exactly as MemTextIndex.add indexes them (arrays as one field). */
export function tokensOf(analyze: Analyzer, value: AttributeValue | undefined): string[] {
  if (typeof value === 'string') return analyze(value);
  if (!Array.isArray(value)) return [];
  const tokens: string[] = [];
  for (const v of value) if (typeof v === 'string') for (const t of analyze(v)) tokens.push(t);
  return tokens;
}

/** A field inverted: terms in dictionary order (UTF-8 bytes) and their postings, row order. */
export interface InvertedField {
  rows: number;
  terms: Buffer[];
  /** Term t owns postings [postingStarts[t], postingStarts[t + 1]). */
  postingStarts: Uint32Array;
  postingRows: Uint32Array;
  postingTfs: Uint32Array;
  lengths: Uint32Array;
  norms: Uint8Array;
  stats: TextStats;
}

/**
 * Inverts a field's values. Postings are gathered as (term id, row, tf) triples in growable
 * typed arrays and bucketed by a counting sort, rather than as a JavaScript array per term: on
 * 50k SciFact abstracts that keeps ~5M postings off the garbage-collected heap (the per-term
 * arrays grew the heap to ~300 MB and cost repeated 20–30 ms mark-compacts).
 */
export function invertField(analyze: Analyzer, values: ReadonlyArray<AttributeValue | undefined>): InvertedField {
  const rows = values.length;
  const lengths = new Uint32Array(rows);
  const norms = new Uint8Array(rows);
  const termIds = new Map<string, number>();
  const terms: string[] = [];
  const triples = new Triples();
  let counts: Uint32Array = new Uint32Array(1024);
  let docCount = 0;
  let sumTotalTermFreq = 0;
  const tf = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const tokens = tokensOf(analyze, values[row]);
    if (tokens.length === 0) continue;
    tf.clear();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, n] of tf) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = terms.length;
        termIds.set(term, id);
        terms.push(term);
        if (id === counts.length) counts = grow(counts);
      }
      counts[id]!++;
      triples.push(id, row, n);
    }
    lengths[row] = tokens.length;
    norms[row] = intToByte4(tokens.length);
    docCount++;
    sumTotalTermFreq += tokens.length;
  }

  // Dictionary order: UTF-8 bytes, as findTerm searches.
  const encoded = terms.map((t) => Buffer.from(t, 'utf8'));
  const order = Array.from({ length: terms.length }, (_, i) => i);
  order.sort((x, y) => Buffer.compare(encoded[x]!, encoded[y]!));
  const postingStarts = new Uint32Array(terms.length + 1);
  const cursor = new Uint32Array(terms.length); // by term id: next free posting slot
  for (let t = 0; t < order.length; t++) {
    const id = order[t]!;
    cursor[id] = postingStarts[t]!;
    postingStarts[t + 1] = postingStarts[t]! + counts[id]!;
  }
  // Triples are in row order, so each term's rows come out ascending.
  const postings = triples.length;
  const postingRows = new Uint32Array(postings);
  const postingTfs = new Uint32Array(postings);
  for (let i = 0; i < postings; i++) {
    const at = cursor[triples.ids[i]!]!++;
    postingRows[at] = triples.rows[i]!;
    postingTfs[at] = triples.tfs[i]!;
  }
  return {
    rows, terms: order.map((id) => encoded[id]!), postingStarts, postingRows, postingTfs, lengths, norms,
    stats: { docCount, sumTotalTermFreq },
  };
}

/**
 * Builds a field's section in the first text format (plain u32 postings). Segments are written
 * in the block format now (block-index.ts); this stays so that old segments can be compared
 * against and tests can write one.
 */
export function encodeTextField(
  analyze: Analyzer,
  values: ReadonlyArray<AttributeValue | undefined>,
): { bytes: Buffer; stats: TextStats } {
  return encodeInvertedV1(invertField(analyze, values));
}

/** Text format 1 of an already inverted field. */
export function encodeInvertedV1(f: InvertedField): { bytes: Buffer; stats: TextStats } {
  const termOffsets = new Uint32Array(f.terms.length + 1);
  let blobBytes = 0;
  for (let t = 0; t < f.terms.length; t++) {
    blobBytes += f.terms[t]!.byteLength;
    termOffsets[t + 1] = blobBytes;
  }
  const postings = f.postingRows.length;
  const w = new SectionWriter(32 + f.terms.length * 8 + postings * 8 + f.rows * 5 + blobBytes);
  w.u32(f.rows);
  w.u32(f.terms.length);
  w.u32(postings);
  w.array(termOffsets);
  w.array(f.postingStarts);
  w.array(f.postingRows);
  w.array(f.postingTfs);
  w.array(f.lengths);
  w.array(f.norms);
  for (const t of f.terms) w.bytes(t);
  return { bytes: w.finish(), stats: f.stats };
}

function grow(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

class Triples {
  ids: Uint32Array = new Uint32Array(4096);
  rows: Uint32Array = new Uint32Array(4096);
  tfs: Uint32Array = new Uint32Array(4096);
  length = 0;

  push(id: number, row: number, tf: number): void {
    if (this.length === this.ids.length) {
      this.ids = grow(this.ids);
      this.rows = grow(this.rows);
      this.tfs = grow(this.tfs);
    }
    this.ids[this.length] = id;
    this.rows[this.length] = row;
    this.tfs[this.length] = tf;
    this.length++;
  }
}

export class DiskTextIndex {
  readonly rows: number;
  readonly termCount: number;
  readonly lengths: Uint32Array;
  readonly norms: Uint8Array;
  private readonly termOffsets: Uint32Array;
  private readonly postingStarts: Uint32Array;
  private readonly postingRows: Uint32Array;
  private readonly postingTfs: Uint32Array;
  private readonly blob: Buffer;
  private readonly lookups = new Map<string, number>();

  constructor(section: Buffer, name: string) {
    const c = new SectionCursor(section, name);
    this.rows = c.u32();
    this.termCount = c.u32();
    const postings = c.u32();
    this.termOffsets = c.u32s(this.termCount + 1);
    this.postingStarts = c.u32s(this.termCount + 1);
    this.postingRows = c.u32s(postings);
    this.postingTfs = c.u32s(postings);
    this.lengths = c.u32s(this.rows);
    this.norms = c.u8s(this.rows);
    this.blob = c.blob(this.termOffsets[this.termCount]!);
  }

  /**
   * The term's index in the dictionary, or -1. Binary search over the UTF-8 bytes with a byte
   * loop in JavaScript (≈0.6 µs on SciFact's 28.9k terms; Buffer.compare per probe: ≈2 µs), behind
   * a memo of recent lookups (≈0.1 µs), since query terms repeat. A Map of every term would
   * take ≈15 ms to build per field and segment, all in one event-loop turn.
   */
  findTerm(term: string): number {
    const memo = this.lookups.get(term);
    if (memo !== undefined) return memo;
    const t = this.searchTerm(Buffer.from(term, 'utf8'));
    if (this.lookups.size >= LOOKUP_MEMO_SIZE) this.lookups.clear();
    this.lookups.set(term, t);
    return t;
  }

  private searchTerm(key: Uint8Array): number {
    const offs = this.termOffsets;
    const blob = this.blob;
    const keyLen = key.length;
    let lo = 0;
    let hi = this.termCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = offs[mid]!;
      const len = offs[mid + 1]! - start;
      const n = len < keyLen ? len : keyLen;
      let c = 0;
      for (let i = 0; i < n && c === 0; i++) c = blob[start + i]! - key[i]!;
      if (c === 0) c = len - keyLen;
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Terms starting with `prefix`, in dictionary order: a binary search for the first, then a walk. */
  termsWithPrefix(prefix: string, max: number): number[] {
    const key = Buffer.from(prefix, 'utf8');
    const offs = this.termOffsets;
    let lo = 0;
    let hi = this.termCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.blob.compare(key, 0, key.length, offs[mid]!, offs[mid + 1]!) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let t = lo; t < this.termCount && out.length < max; t++) {
      const start = offs[t]!;
      if (offs[t + 1]! - start < key.length || this.blob.compare(key, 0, key.length, start, start + key.length) !== 0) break;
      out.push(t);
    }
    return out;
  }

  term(t: number): string {
    return this.blob.toString('utf8', this.termOffsets[t]!, this.termOffsets[t + 1]!);
  }

  /** All postings of term t, dead rows included (zero-copy views). */
  postingsAt(t: number): Postings {
    const a = this.postingStarts[t]!;
    const b = this.postingStarts[t + 1]!;
    return { rows: this.postingRows.subarray(a, b), tfs: this.postingTfs.subarray(a, b) };
  }

  /** docCount and sumTotalTermFreq over the live rows. */
  liveStats(live: Uint8Array): TextStats {
    return liveStatsOf(this, live);
  }

  view(live: Uint8Array, stats?: TextStats): SegmentTextView {
    if (live.length < this.rows) throw new RangeError(`live has ${live.length} entries; the segment has ${this.rows} rows`);
    return new SegmentTextView(this, live, stats);
  }
}

/**
 * One query's (or one deletion state's) view of a segment's text index. It snapshots nothing:
 * create a new view after rows are killed. stats are computed from the live array on first use
 * (one pass over the rows), unless precomputed stats were given to view(); docFreq and filtered
 * postings are memoized per term for the view's life.
 */
export class SegmentTextView extends LiveRowsView implements TextIndexView {
  private readonly memo = new Map<string, Postings | null>();

  constructor(private readonly index: DiskTextIndex, live: Uint8Array, stats?: TextStats) {
    super(index, live, stats);
  }

  postings(term: string): Postings | undefined {
    let p = this.memo.get(term);
    if (p === undefined) {
      p = this.livePostings(term);
      this.memo.set(term, p);
    }
    return p ?? undefined;
  }

  docFreq(term: string): number {
    return this.postings(term)?.rows.length ?? 0;
  }

  termsWithPrefix(prefix: string, max: number): string[] {
    return this.index.termsWithPrefix(prefix, max).map((t) => this.index.term(t)).filter((term) => this.postings(term) !== undefined);
  }

  private livePostings(term: string): Postings | null {
    const t = this.index.findTerm(term);
    if (t < 0) return null;
    return this.keepLive(this.index.postingsAt(t));
  }
}
