// A text format 2 section (block-index.ts) read by range: open reads the header, the term index
// and the norms; a query then reads, for its own terms only, their dictionary blocks (round trip
// 1, all terms at once) and their postings (round trip 2). Decoded dictionary blocks and postings
// live in the node's memory tier (the reader's textCache, main.ts: bounded by cache.memory_size, least
// recently used evicted first); what a query fetched it holds itself until it is scored, so an
// eviction in between costs a later query a read, never a wrong score.
import { crc32 } from 'node:zlib';
import { lruPartCache, type PartCache } from '../part-cache.ts';
import { SegmentCorruptError } from '../format.ts';
import { DICT_BLOCK_TERMS, HEADER_WORDS, MAGIC } from './block-index.ts';
import { BlockTextView } from './block-view.ts';
import type { TextStats } from './disk-index.ts';

/** Where the index's bytes come from: ranged reads of the segment object, or a loaded section. */
export interface TextSectionBytes {
  readonly length: number;
  /** Bytes [offset, offset + length) of the section. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** True when the whole section's CRC was checked already; else every range is checked. */
  readonly verified: boolean;
}

/** A whole section already in memory (verified: its CRC was checked when it was read). */
export function loadedSection(bytes: Uint8Array, verified = true): TextSectionBytes {
  return { verified, length: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** One dictionary block, decoded. */
export interface DictBlock {
  count: number;
  docFreqs: Uint32Array;
  wordStarts: Uint32Array;
  crcs: Uint32Array;
  keyStarts: Uint32Array;
  blob: Uint8Array;
}

/** What the memory tier holds of text indexes: dictionary blocks and terms' postings words. */
export type TextPart = DictBlock | Uint32Array;

/** Where decoded parts are kept (part-cache.ts). */
export type TextPartCache = PartCache<TextPart>;

/** The cache of indexes opened without one; the node passes its memory tier's (main.ts, ReaderOptions). */
const defaultParts: TextPartCache = lruPartCache<TextPart>(64 * 2 ** 20);

/** Where one term's postings are, from its dictionary entry. */
export interface TermEntry {
  docFreq: number;
  /** Word range in the postings part. */
  wordStart: number;
  wordEnd: number;
  /** CRC-32 of those words. */
  crc: number;
}

/** A query's terms as fetched: entry and postings words, or null for a term no row has. */
export type TermTable = ReadonlyMap<string, { entry: TermEntry; words: Uint32Array } | null>;

export interface OpenBlockTextOptions {
  /** The segment's row count: lets open read the norms (at the section's end) with the header. */
  rows?: number;
  /** The statistics over every row (the segment table's): a view with no dead row needs no lengths. */
  stats?: TextStats;
  cache?: TextPartCache;
}

/**
 * The first bytes read at open: the header and, for up to ≈ 200k terms (20 bytes per 64), the
 * whole term index, so that open costs one round trip (SciFact's 28.9k terms: 9 KB).
 */
const OPEN_PREFIX = 64 * 1024;

let nextIndex = 0;

export class BlockTextIndex {
  /** Unique per index: memory-tier keys never collide across segments. */
  private readonly prefix = `txt${nextIndex++}/`;
  private readonly keys = new Set<string>();
  private exactLengths: Uint32Array | undefined;
  private loadingLengths: Promise<Uint32Array> | undefined;

  private constructor(
    private readonly bytes: TextSectionBytes,
    private readonly name: string,
    readonly rows: number,
    readonly termCount: number,
    private readonly parts: { dictOffset: number; postingsOffset: number; lengthsOffset: number; lengthsCrc: number },
    private readonly dictStarts: Uint32Array,
    private readonly dictCrcs: Uint32Array,
    private readonly firstKeyStarts: Uint32Array,
    private readonly firstKeys: Uint8Array,
    /** One byte a row, read by every scored posting: kept with the term index. */
    readonly norms: Uint8Array,
    readonly fullStats: TextStats | undefined,
    private readonly cache: TextPartCache,
  ) {}

  static async open(bytes: TextSectionBytes, name: string, opts: OpenBlockTextOptions = {}): Promise<BlockTextIndex> {
    const size = bytes.length;
    if (size < HEADER_WORDS * 4) throw new SegmentCorruptError(name, 'shorter than a text format 2 header');
    // The norms are the last part, followed by at most 7 bytes of padding.
    const tailStart = opts.rows === undefined ? size : Math.max(0, size - opts.rows - 8);
    const [head, tail] = await Promise.all([
      bytes.read(0, Math.min(size, OPEN_PREFIX)),
      tailStart < size ? bytes.read(tailStart, size - tailStart) : Promise.resolve(null),
    ]);
    const h = words(head.subarray(0, HEADER_WORDS * 4), true);
    if (h[0] !== MAGIC) throw new SegmentCorruptError(name, 'not a text format 2 section');
    const [rows, terms, dictBlocks, termIndexOffset, dictOffset] = [h[1]!, h[2]!, h[3]!, h[4]!, h[5]!];
    const normsOffset = h[10]!;
    if (dictOffset > size || normsOffset + rows > size || termIndexOffset > dictOffset) {
      throw new SegmentCorruptError(name, 'header offsets beyond the section');
    }
    const within = (got: Uint8Array | null, from: number, at: number, length: number): Promise<Uint8Array> =>
      got !== null && at >= from && at + length <= from + got.byteLength
        ? Promise.resolve(got.subarray(at - from, at - from + length))
        : bytes.read(at, length);
    const [indexBytes, normBytes] = await Promise.all([
      within(head, 0, termIndexOffset, dictOffset - termIndexOffset),
      within(tail, tailStart, normsOffset, rows),
    ]);
    const check = (b: Uint8Array, crc: number, part: string): Uint8Array => {
      if (!bytes.verified && crc32(b) !== crc) throw new SegmentCorruptError(name, `${part} CRC mismatch`);
      return b;
    };
    const index = check(indexBytes, h[11]!, 'term index');
    const norms = check(normBytes, h[12]!, 'norms');
    const iw = words(index, !bytes.verified);
    const n = dictBlocks + 1;
    if (iw.length < 3 * n - 1) throw new SegmentCorruptError(name, 'term index shorter than its header says');
    const firstKeyStarts = iw.subarray(2 * n - 1, 3 * n - 1);
    const blobAt = 4 * (3 * n - 1);
    if (blobAt + firstKeyStarts[n - 1]! > index.byteLength) throw new SegmentCorruptError(name, 'term index keys beyond the term index');
    const firstKeys = new Uint8Array(iw.buffer, iw.byteOffset + blobAt, firstKeyStarts[n - 1]!);
    const parts = { dictOffset, postingsOffset: h[7]!, lengthsOffset: h[9]!, lengthsCrc: h[13]! };
    return new BlockTextIndex(bytes, name, rows, terms, parts, iw.subarray(0, n), iw.subarray(n, 2 * n - 1),
      firstKeyStarts, firstKeys, bytes.verified ? new Uint8Array(norms.buffer, norms.byteOffset, norms.byteLength) : new Uint8Array(norms), opts.stats, opts.cache ?? defaultParts);
  }

  /** Exact token counts, after loadLengths(): live statistics and exactLength read them. */
  get lengths(): Uint32Array {
    if (this.exactLengths === undefined) throw new Error(`section ${this.name}: lengths not loaded (await loadLengths() first)`);
    return this.exactLengths;
  }

  /** Reads the lengths (4 bytes a row) once; kept while the index is open, as the norms are. */
  loadLengths(): Promise<Uint32Array> {
    if (this.exactLengths !== undefined) return Promise.resolve(this.exactLengths);
    this.loadingLengths ??= this.bytes.read(this.parts.lengthsOffset, this.rows * 4).then((b) => {
      this.exactLengths = words(this.checked(b, this.parts.lengthsCrc, 'lengths'), !this.bytes.verified);
      return this.exactLengths;
    }).finally(() => { this.loadingLengths = undefined; });
    return this.loadingLengths;
  }

  /**
   * The terms' dictionary entries and postings, in two rounds of parallel reads (dictionary
   * blocks, then postings), each part from the memory tier when it is there.
   */
  async fetch(terms: Iterable<string>): Promise<TermTable> {
    const unique = [...new Set(terms)];
    const entries = await Promise.all(unique.map((t) => this.lookup(t)));
    const postings = await Promise.all(entries.map((e) => (e === null ? null : this.postings(e))));
    return new Map(unique.map((t, i) => [t, entries[i] === null ? null : { entry: entries[i]!, words: postings[i]! }]));
  }

  /** The term's dictionary entry, or null when no row has it. */
  async lookup(term: string): Promise<TermEntry | null> {
    const key = Buffer.from(term, 'utf8');
    const b = this.blockOf(key);
    if (b < 0) return null;
    const d = await this.dictBlock(b);
    const i = firstAtLeast(d, key);
    return i < d.count && compare(d.blob, d.keyStarts[i]!, d.keyStarts[i + 1]!, key) === 0
      ? { docFreq: d.docFreqs[i]!, wordStart: d.wordStarts[i]!, wordEnd: d.wordStarts[i + 1]!, crc: d.crcs[i]! }
      : null;
  }

  /**
   * Up to `max` terms starting with `prefix`, in dictionary order (UTF-8 bytes), as format 1's
   * termsWithPrefix: the term index names the blocks that can hold them, read in one round of
   * parallel reads. Every term in the dictionary has a posting; whether a live one is the view's.
   */
  async termsWithPrefix(prefix: string, max: number): Promise<string[]> {
    const blocks = this.dictStarts.length - 1;
    if (blocks === 0 || max <= 0) return [];
    const key = Buffer.from(prefix, 'utf8');
    const first = Math.max(0, this.blockOf(key));
    // Block b + 1 can hold a match only when its first term has the prefix (terms are sorted);
    // every block before it is full, so ⌈max / DICT_BLOCK_TERMS⌉ blocks past the first suffice.
    let last = first;
    while (last + 1 < blocks && last - first < Math.ceil(max / DICT_BLOCK_TERMS) && this.firstKeyHas(last + 1, key)) last++;
    const dicts = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.dictBlock(first + i)));
    const out: string[] = [];
    for (const [n, d] of dicts.entries()) {
      for (let i = n === 0 ? firstAtLeast(d, key) : 0; i < d.count; i++) {
        const start = d.keyStarts[i]!;
        if (out.length >= max || d.keyStarts[i + 1]! - start < key.length || compare(d.blob, start, start + key.length, key) !== 0) return out;
        out.push(Buffer.from(d.blob.buffer, d.blob.byteOffset + start, d.keyStarts[i + 1]! - start).toString('utf8'));
      }
    }
    return out;
  }

  /** The entry's postings words (block-postings.ts), CRC-checked when read. */
  postings(entry: TermEntry): Promise<Uint32Array> {
    return this.part<Uint32Array>(`p${entry.wordStart}`, async () => {
      const raw = await this.bytes.read(this.parts.postingsOffset + entry.wordStart * 4, (entry.wordEnd - entry.wordStart) * 4);
      const w = words(this.checked(raw, entry.crc, 'postings'), !this.bytes.verified);
      return { value: w, bytes: w.byteLength };
    });
  }

  /** A view where only rows with live[row] === 1 exist; it scores the terms it fetched (withTerms). */
  view(live: Uint8Array, stats?: TextStats): BlockTextView {
    return new BlockTextView(this, live, stats);
  }

  /** Drops what the memory tier holds of this index. */
  close(): void {
    for (const key of this.keys) this.cache.delete(key);
    this.keys.clear();
  }

  private dictBlock(b: number): Promise<DictBlock> {
    return this.part<DictBlock>(`d${b}`, async () => {
      const start = this.dictStarts[b]!;
      const raw = await this.bytes.read(this.parts.dictOffset + start, this.dictStarts[b + 1]! - start);
      return decodeDictBlock(this.checked(raw, this.dictCrcs[b]!, 'dictionary'), !this.bytes.verified);
    });
  }

  /** Whether dictionary block b's first term starts with key. */
  private firstKeyHas(b: number, key: Uint8Array): boolean {
    const start = this.firstKeyStarts[b]!;
    return this.firstKeyStarts[b + 1]! - start >= key.length && compare(this.firstKeys, start, start + key.length, key) === 0;
  }

  private async part<T extends TextPart>(key: string, load: () => Promise<{ value: T; bytes: number }>): Promise<T> {
    const full = this.prefix + key;
    this.keys.add(full);
    // One key names one kind of part ('d' blocks, 'p' postings): what comes back is what load made.
    return (await this.cache.get(full, load)) as T;
  }

  /** The bytes, after checking their CRC when the section was not checked whole. */
  private checked(bytes: Uint8Array, crc: number, part: string): Uint8Array {
    if (!this.bytes.verified && crc32(bytes) !== crc) throw new SegmentCorruptError(this.name, `${part} CRC mismatch`);
    return bytes;
  }

  /** The last dictionary block whose first term is ≤ key, or -1. */
  private blockOf(key: Uint8Array): number {
    let lo = 0;
    let hi = this.dictStarts.length - 2;
    let block = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.firstKeys, this.firstKeyStarts[mid]!, this.firstKeyStarts[mid + 1]!, key) <= 0) {
        block = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return block;
  }
}

/** The first term of the block ≥ key (count when none is): a binary search. */
function firstAtLeast(d: DictBlock, key: Uint8Array): number {
  let lo = 0;
  let hi = d.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(d.blob, d.keyStarts[mid]!, d.keyStarts[mid + 1]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function decodeDictBlock(bytes: Uint8Array, copy: boolean): { value: DictBlock; bytes: number } {
  const w = words(bytes, copy);
  const count = w[0]!;
  const value = {
    count,
    docFreqs: w.subarray(1, 1 + count),
    wordStarts: w.subarray(1 + count, 2 + 2 * count),
    crcs: w.subarray(2 + 2 * count, 2 + 3 * count),
    keyStarts: w.subarray(2 + 3 * count, 3 + 4 * count),
    blob: new Uint8Array(w.buffer, w.byteOffset + (3 + 4 * count) * 4, bytes.byteLength - (3 + 4 * count) * 4),
  };
  return { value, bytes: bytes.byteLength };
}

/**
 * u32 words over bytes: a copy when asked (bytes of a read must not pin the buffer they came in,
 * which may be a shared pool's) or when they are not 4-byte aligned.
 */
function words(b: Uint8Array, copy: boolean): Uint32Array {
  if (copy || b.byteOffset % 4 !== 0) {
    const own = new Uint8Array(Math.ceil(b.byteLength / 4) * 4);
    own.set(b);
    b = own;
  }
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
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
