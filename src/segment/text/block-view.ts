// A segment's text format 2 index as a query scores it. Its postings are read by range
// (block-reader.ts), which is asynchronous while scoring is not: a query first asks its view for
// the terms it will score (withTerms: two rounds of parallel reads), and scores the view that
// comes back, which holds those terms' postings until the query drops it.
import { PostingsCursor } from './block-postings.ts';
import type { BlockTextIndex, TermEntry, TermTable } from './block-reader.ts';
import type { TextStats } from './disk-index.ts';
import type { Postings, TextIndexView } from './index-view.ts';
import { LiveRowsView } from './live-rows.ts';

const NO_TERMS: TermTable = new Map();

/**
 * A segment's text index where only rows with live[row] === 1 exist, as SegmentTextView is for
 * format 1. postings() decodes the whole list (the exhaustive scorer's input); block-max top-k
 * (block-max.ts) reads cursor() instead and checks isLive itself.
 */
export class BlockTextView extends LiveRowsView implements TextIndexView {
  constructor(
    readonly index: BlockTextIndex,
    live: Uint8Array,
    stats?: TextStats,
    private readonly fetched: TermTable = NO_TERMS,
    allLive?: boolean,
    /** docFreq over live rows by term, shared by the views derived from one deletion state. */
    private readonly liveFreqs = new Map<string, number>(),
  ) {
    super(index, live, stats, allLive);
    if (live.length < index.rows) throw new RangeError(`live has ${live.length} entries; the segment has ${index.rows} rows`);
  }

  /**
   * A view of the same rows holding the postings of `terms`, which its postings, docFreq and
   * cursor then answer for. Reads the lengths too when the statistics need them (dead rows).
   */
  async withTerms(terms: readonly string[]): Promise<BlockTextView> {
    const [fetched] = await Promise.all([
      this.index.fetch(terms),
      this.statsWithoutLengths() ? undefined : this.index.loadLengths(),
    ]);
    return new BlockTextView(this.index, this.live, this.liveStats(), fetched, this.everyRowLive(), this.liveFreqs);
  }

  /**
   * Up to `max` terms starting with `prefix` that a live row has, as format 1's view answers:
   * the first `max` in dictionary order, less those only dead rows have (their postings are
   * fetched to tell, which the query scoring them reads next anyway, from the memory tier).
   */
  async termsWithPrefix(prefix: string, max: number): Promise<string[]> {
    const terms = await this.index.termsWithPrefix(prefix, max);
    if (this.everyRowLive()) return terms;
    const fetched = await this.withTerms(terms);
    return terms.filter((t) => fetched.docFreq(t) > 0);
  }

  /** With every row live, the segment table's statistics: no lengths to read. */
  override liveStats(): TextStats {
    if (this.statsWithoutLengths() && !this.hasStats()) return { ...this.index.fullStats! };
    return super.liveStats();
  }

  get norms(): Uint8Array {
    return this.index.norms;
  }

  isLive(row: number): boolean {
    return this.live[row] === 1;
  }

  /** The term's dictionary entry, or null when no row has it. */
  entry(term: string): TermEntry | null {
    return this.term(term)?.entry ?? null;
  }

  /** A cursor over the term's postings, dead rows included; undefined when no row has it. */
  cursor(term: string): PostingsCursor | undefined {
    const t = this.term(term);
    return t === null ? undefined : new PostingsCursor(t.words, t.entry.docFreq);
  }

  /**
   * Decoded on every call, not memoized: the memory tier holds the encoded postings, and decoding
   * costs about three typed-array additions a value (bitpack.ts), well under scoring the posting.
   */
  postings(term: string): Postings | undefined {
    const cursor = this.cursor(term);
    return cursor === undefined ? undefined : this.keepLive(cursor.decodeAll()) ?? undefined;
  }

  /** From the dictionary when every row is live; else the live postings are counted once. */
  docFreq(term: string): number {
    const t = this.term(term);
    if (t === null) return 0;
    if (this.everyRowLive()) return t.entry.docFreq;
    let n = this.liveFreqs.get(term);
    if (n === undefined) {
      n = this.postings(term)?.rows.length ?? 0;
      this.liveFreqs.set(term, n);
    }
    return n;
  }

  private statsWithoutLengths(): boolean {
    return this.hasStats() || (this.index.fullStats !== undefined && this.everyRowLive());
  }

  private term(term: string): { entry: TermEntry; words: Uint32Array } | null {
    const t = this.fetched.get(term);
    if (t === undefined) throw new Error(`term '${term}' was not fetched: score the view withTerms() returns`);
    return t;
  }
}
