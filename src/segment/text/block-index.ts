// Text format 2 of a segment's full-text index (`text:{field}` section; the table says
// `text[field].format: 2`): block-compressed postings (block-postings.ts) behind a dictionary
// laid out so that a query touches only its own terms' bytes.
//
//   header, u32 × 16: magic "TXT2", rows, terms, dictBlocks, termIndexOffset, dictOffset,
//                     dictLength, postingsOffset, postingsLength, lengthsOffset, normsOffset,
//                     CRC-32 of the term index, of the norms, of the lengths, 0, 0
//   term index        u32 dictStarts[dictBlocks + 1]  (byte offsets into the dictionary part)
//                     u32 dictCrcs[dictBlocks]        CRC-32 of each dictionary block
//                     u32 keyStarts[dictBlocks + 1]   first term of every dictionary block: offsets
//                     blob                            into this blob (UTF-8)
//   dictionary        blocks of DICT_BLOCK_TERMS terms (sorted by UTF-8 bytes), each 4-aligned:
//                     u32 count, u32 docFreq[count], u32 postingStarts[count + 1] (word offsets
//                     into the postings part), u32 postingCrcs[count] (CRC-32 of each term's
//                     postings), u32 keyStarts[count + 1], blob
//   postings          every term's words, one after another (block-postings.ts)
//   lengths           u32 exact token count per row (0 = row not indexed)
//   norms             u8 Lucene norm byte per row (intToByte4(length))
//
// A term costs three reads: the term index (kept in memory, ≈ 20 bytes per 64 terms) names the
// dictionary block, the block gives docFreq and the postings range, then the postings. Every byte
// comes through TextSectionBytes, so the loaded section can be swapped for ranged reads; each
// range a query reads carries its own CRC-32, checked when the section was not checked whole.
import type { AttributeValue } from '../../schema/types.ts';
import { crc32 } from 'node:zlib';
import { SectionWriter } from '../binary.ts';
import { SegmentCorruptError } from '../format.ts';
import type { Analyzer } from './analyzer.ts';
import { encodePostings, PostingsCursor } from './block-postings.ts';
import { invertField, type InvertedField, type TextStats } from './disk-index.ts';
import type { Postings, TextIndexView } from './index-view.ts';
import { LiveRowsView, liveStatsOf } from './live-rows.ts';

export const TEXT_FORMAT_BLOCKS = 2;
const MAGIC = 0x3254_5854; // "TXT2" little-endian
const HEADER_WORDS = 16;
/** Terms per dictionary block: a lookup reads one block (≈ 1–2 KB at 64 terms). */
export const DICT_BLOCK_TERMS = 64;
const LOOKUP_MEMO_SIZE = 65_536;

/** Where the index's bytes come from: the loaded section today, ranged reads later. */
export interface TextSectionBytes {
  /** Bytes [offset, offset + length) of the section. */
  read(offset: number, length: number): Uint8Array;
  /** True when the whole section's CRC was checked already; else every range is checked. */
  readonly verified: boolean;
}

/** A whole section already in memory (verified: the segment reader checked its CRC). */
export function loadedSection(bytes: Uint8Array, verified = true): TextSectionBytes {
  return { verified, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

export function encodeBlockTextField(
  analyze: Analyzer,
  values: ReadonlyArray<AttributeValue | undefined>,
): { bytes: Buffer; stats: TextStats } {
  return encodeBlockInverted(invertField(analyze, values));
}

/** The section of an already inverted field (benchmarks build one without analysis). */
export function encodeBlockInverted(f: InvertedField): { bytes: Buffer; stats: TextStats } {
  const terms = f.terms.length;
  const dictBlocks = Math.ceil(terms / DICT_BLOCK_TERMS);

  const postingParts: Uint32Array[] = [];
  const wordStarts = new Uint32Array(terms + 1);
  const postingCrcs = new Uint32Array(terms);
  for (let t = 0; t < terms; t++) {
    const p = encodePostings(f.postingRows, f.postingTfs, f.norms, f.postingStarts[t]!, f.postingStarts[t + 1]!);
    postingParts.push(p);
    wordStarts[t + 1] = wordStarts[t]! + p.length;
    postingCrcs[t] = crc32(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }

  const dict = new SectionWriter(terms * 16 + 64);
  const dictStarts = new Uint32Array(dictBlocks + 1);
  const firstKeys: Buffer[] = [];
  for (let d = 0; d < dictBlocks; d++) {
    const a = d * DICT_BLOCK_TERMS;
    const e = Math.min(terms, a + DICT_BLOCK_TERMS);
    firstKeys.push(f.terms[a]!);
    dict.u32(e - a);
    dict.array(Uint32Array.from({ length: e - a }, (_, i) => f.postingStarts[a + i + 1]! - f.postingStarts[a + i]!));
    dict.array(wordStarts.subarray(a, e + 1));
    dict.array(postingCrcs.subarray(a, e));
    dict.array(keyStarts(f.terms.slice(a, e)));
    for (let t = a; t < e; t++) dict.bytes(f.terms[t]!);
    dict.align(4);
    dictStarts[d + 1] = dict.length;
  }
  const dictBytes = dict.finish();
  const dictCrcs = Uint32Array.from({ length: dictBlocks }, (_, d) => crc32(dictBytes.subarray(dictStarts[d]!, dictStarts[d + 1]!)));

  const w = new SectionWriter(HEADER_WORDS * 4 + dictBytes.byteLength + wordStarts[terms]! * 4 + f.rows * 5 + 64);
  const header = new Uint32Array(HEADER_WORDS);
  w.array(header); // filled in below
  const termIndexOffset = w.length;
  w.array(dictStarts);
  w.array(dictCrcs);
  w.array(keyStarts(firstKeys));
  for (const k of firstKeys) w.bytes(k);
  w.align(8);
  const dictOffset = w.length;
  w.bytes(dictBytes);
  w.align(8);
  const postingsOffset = w.length;
  for (const p of postingParts) w.array(p);
  const postingsLength = w.length - postingsOffset;
  w.align(8);
  const lengthsOffset = w.length;
  w.array(f.lengths);
  const normsOffset = w.length;
  w.array(f.norms);
  const bytes = w.finish();
  if (bytes.byteLength > 0xffff_ffff) throw new RangeError('a text section over 4 GiB does not fit u32 offsets');
  header.set([MAGIC, f.rows, terms, dictBlocks, termIndexOffset, dictOffset, dictBytes.byteLength,
    postingsOffset, postingsLength, lengthsOffset, normsOffset,
    crc32(bytes.subarray(termIndexOffset, dictOffset)), crc32(bytes.subarray(normsOffset, normsOffset + f.rows)),
    crc32(bytes.subarray(lengthsOffset, lengthsOffset + f.rows * 4)), 0, 0]);
  bytes.set(new Uint8Array(header.buffer), 0);
  return { bytes, stats: f.stats };
}

function keyStarts(keys: readonly Buffer[]): Uint32Array {
  const starts = new Uint32Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) starts[i + 1] = starts[i]! + keys[i]!.byteLength;
  return starts;
}

/** u32 words over bytes, copied when they are not 4-byte aligned (a ranged read may not be). */
function words(b: Uint8Array): Uint32Array {
  if (b.byteOffset % 4 !== 0) b = b.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
}

/** Where one term's postings are, from its dictionary entry. */
export interface TermEntry {
  docFreq: number;
  /** Word range in the postings part. */
  wordStart: number;
  wordEnd: number;
  /** CRC-32 of those words. */
  crc: number;
}

export class BlockTextIndex {
  readonly rows: number;
  readonly termCount: number;
  readonly norms: Uint8Array;
  private readonly dictBlocks: number;
  private readonly dictOffset: number;
  private readonly postingsOffset: number;
  private readonly lengthsOffset: number;
  private readonly dictStarts: Uint32Array;
  private readonly dictCrcs: Uint32Array;
  private readonly lengthsCrc: number;
  private readonly firstKeyStarts: Uint32Array;
  private readonly firstKeys: Uint8Array;
  private readonly lookups = new Map<string, TermEntry | null>();
  private exactLengths: Uint32Array | undefined;

  constructor(private readonly bytes: TextSectionBytes, private readonly name: string) {
    const h = words(bytes.read(0, HEADER_WORDS * 4));
    if (h.length < HEADER_WORDS || h[0] !== MAGIC) throw new RangeError(`section ${name}: not a text format 2 section`);
    this.rows = h[1]!;
    this.termCount = h[2]!;
    this.dictBlocks = h[3]!;
    const termIndexOffset = h[4]!;
    this.dictOffset = h[5]!;
    this.postingsOffset = h[7]!;
    this.lengthsOffset = h[9]!;
    this.lengthsCrc = h[13]!;
    const n = this.dictBlocks + 1;
    const index = this.checked(bytes.read(termIndexOffset, this.dictOffset - termIndexOffset), h[11]!, 'term index');
    const iw = words(index);
    this.dictStarts = iw.subarray(0, n);
    this.dictCrcs = iw.subarray(n, 2 * n - 1);
    this.firstKeyStarts = iw.subarray(2 * n - 1, 3 * n - 1);
    this.firstKeys = index.subarray(4 * (3 * n - 1), 4 * (3 * n - 1) + this.firstKeyStarts[n - 1]!);
    // One byte a row, read by every scored posting: kept in memory with the term index.
    const norms = this.checked(bytes.read(h[10]!, this.rows), h[12]!, 'norms');
    this.norms = new Uint8Array(norms.buffer, norms.byteOffset, norms.byteLength);
  }

  /** Exact token counts, read on first use (live statistics, merges). */
  get lengths(): Uint32Array {
    this.exactLengths ??= words(this.checked(this.bytes.read(this.lengthsOffset, this.rows * 4), this.lengthsCrc, 'lengths'));
    return this.exactLengths;
  }

  /** The term's dictionary entry, or null; memoized, since query terms repeat. */
  lookup(term: string): TermEntry | null {
    const memo = this.lookups.get(term);
    if (memo !== undefined) return memo;
    const entry = this.search(Buffer.from(term, 'utf8'));
    if (this.lookups.size >= LOOKUP_MEMO_SIZE) this.lookups.clear();
    this.lookups.set(term, entry);
    return entry;
  }

  /** A fresh cursor over the entry's postings (dead rows included). */
  cursor(entry: TermEntry): PostingsCursor {
    const at = this.postingsOffset + entry.wordStart * 4;
    const bytes = this.checked(this.bytes.read(at, (entry.wordEnd - entry.wordStart) * 4), entry.crc, 'postings');
    return new PostingsCursor(words(bytes), entry.docFreq);
  }

  /** The bytes, after checking their CRC when the section was not checked whole. */
  private checked(bytes: Uint8Array, crc: number, part: string): Uint8Array {
    if (!this.bytes.verified && crc32(bytes) !== crc) throw new SegmentCorruptError(this.name, `${part} CRC mismatch`);
    return bytes;
  }

  liveStats(live: Uint8Array): TextStats {
    return liveStatsOf(this, live);
  }

  view(live: Uint8Array, stats?: TextStats): BlockTextView {
    if (live.length < this.rows) throw new RangeError(`live has ${live.length} entries; the segment has ${this.rows} rows`);
    return new BlockTextView(this, live, stats);
  }

  private search(key: Uint8Array): TermEntry | null {
    // The last dictionary block whose first term is ≤ key.
    let lo = 0;
    let hi = this.dictBlocks - 1;
    let block = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(this.firstKeys, this.firstKeyStarts[mid]!, this.firstKeyStarts[mid + 1]!, key);
      if (c <= 0) {
        block = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (block < 0) return null;
    const start = this.dictStarts[block]!;
    const bytes = this.checked(this.bytes.read(this.dictOffset + start, this.dictStarts[block + 1]! - start), this.dictCrcs[block]!, 'dictionary');
    const w = words(bytes);
    const count = w[0]!;
    const docFreqs = w.subarray(1, 1 + count);
    const wordStarts = w.subarray(1 + count, 2 + 2 * count);
    const crcs = w.subarray(2 + 2 * count, 2 + 3 * count);
    const keyStarts = w.subarray(2 + 3 * count, 3 + 4 * count);
    const blob = bytes.subarray((3 + 4 * count) * 4);
    lo = 0;
    hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(blob, keyStarts[mid]!, keyStarts[mid + 1]!, key);
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid - 1;
      else return { docFreq: docFreqs[mid]!, wordStart: wordStarts[mid]!, wordEnd: wordStarts[mid + 1]!, crc: crcs[mid]! };
    }
    return null;
  }
}

/** bytes[start, end) against key, as Buffer.compare orders them (a JS byte loop: no allocation). */
function compare(bytes: Uint8Array, start: number, end: number, key: Uint8Array): number {
  const len = end - start;
  const n = len < key.length ? len : key.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[start + i]! - key[i]!;
    if (c !== 0) return c;
  }
  return len - key.length;
}

/**
 * A segment's text index where only rows with live[row] === 1 exist, as SegmentTextView is for
 * format 1. postings() decodes the whole list (the exhaustive scorer's input); block-max top-k
 * (block-max.ts) reads cursor() instead and checks isLive itself.
 */
export class BlockTextView extends LiveRowsView implements TextIndexView {
  private readonly liveFreqs = new Map<string, number>();

  constructor(readonly index: BlockTextIndex, live: Uint8Array, stats?: TextStats) {
    super(index, live, stats);
  }

  get norms(): Uint8Array {
    return this.index.norms;
  }

  isLive(row: number): boolean {
    return this.live[row] === 1;
  }

  /** A cursor over the term's postings, dead rows included; undefined when no row has it. */
  cursor(term: string): PostingsCursor | undefined {
    const entry = this.index.lookup(term);
    return entry === null ? undefined : this.index.cursor(entry);
  }

  /**
   * Decoded on every call, not memoized: a view lives as long as its segment's deletion state,
   * and decoded copies of every term ever queried would grow without bound (format 1 handed out
   * zero-copy views instead). Decoding costs about three typed-array additions a value (bitpack.ts),
   * well under scoring the posting.
   */
  postings(term: string): Postings | undefined {
    return this.livePostings(term) ?? undefined;
  }

  /** From the dictionary when every row is live; else the live postings are counted once. */
  docFreq(term: string): number {
    const entry = this.index.lookup(term);
    if (entry === null) return 0;
    if (this.everyRowLive()) return entry.docFreq;
    let n = this.liveFreqs.get(term);
    if (n === undefined) {
      n = this.postings(term)?.rows.length ?? 0;
      this.liveFreqs.set(term, n);
    }
    return n;
  }

  private livePostings(term: string): Postings | null {
    const entry = this.index.lookup(term);
    if (entry === null) return null;
    return this.keepLive(this.index.cursor(entry).decodeAll());
  }
}
