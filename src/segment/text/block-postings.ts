// One term's postings in blocks of BLOCK_SIZE rows, as Lucene 9 and tantivy store them: row
// deltas and term frequencies bit-packed per block, and a skip table in front that a query reads
// without decoding any block. The skip table carries, per block, its last row and the largest
// term frequency and smallest Lucene norm byte in it. Those are the two inputs of BM25 that vary
// per document, so a block's maximum score is computed at query time from the namespace-wide
// statistics of that query (docCount, docFreq, avgdl change with every write and deletion
// anywhere in the namespace), never stored as a score that would go stale.
//
// Layout, in u32 words (the term's range of the postings part):
//   n                          number of blocks
//   lastRow[n]                 last row of each block
//   start[n + 1]               word offset of each block, from the end of the skip table
//   maxTf[n]
//   minNorm[n] as bytes        padded to a whole word
//   blocks: header (rowBits | tfBits << 8), rows packed, tfs packed
// Rows are stored as gaps minus one (the first against the previous block's last row, or −1),
// tfs as tf − 1; every block holds BLOCK_SIZE postings except the last, which holds the rest.
import { bitWidth, pack, packedWords, unpack } from './bitpack.ts';

export const BLOCK_SIZE = 128;

/** Past every row: the position of an exhausted cursor. */
export const NO_MORE_ROWS = 0x1_0000_0000;

// Scratch for one block: most terms of a field have a handful of postings, and two typed arrays
// allocated per term made up most of the encoding time.
const GAPS = new Uint32Array(BLOCK_SIZE);
const FREQS = new Uint32Array(BLOCK_SIZE);

/** Postings rows[from, to) (ascending) with their tfs, as the words laid out above. */
export function encodePostings(
  rows: ArrayLike<number>, tfs: ArrayLike<number>, norms: Uint8Array, from: number, to: number,
): Uint32Array {
  const count = to - from;
  const n = Math.ceil(count / BLOCK_SIZE);
  const head = 1 + n + (n + 1) + n + Math.ceil(n / 4);
  const gaps = GAPS;
  const freqs = FREQS;
  const rowBits = new Uint8Array(n);
  const tfBits = new Uint8Array(n);
  let words = head;
  for (let b = 0; b < n; b++) {
    const a = from + b * BLOCK_SIZE;
    const e = Math.min(to, a + BLOCK_SIZE);
    fillBlock(rows, tfs, a, e, from, gaps, freqs);
    rowBits[b] = bitWidth(gaps, 0, e - a);
    tfBits[b] = bitWidth(freqs, 0, e - a);
    words += 1 + packedWords(e - a, rowBits[b]!) + packedWords(e - a, tfBits[b]!);
  }
  const out = new Uint32Array(words);
  out[0] = n;
  const minNorms = new Uint8Array(out.buffer, (1 + 3 * n + 1) * 4, n);
  let at = 0;
  for (let b = 0; b < n; b++) {
    const a = from + b * BLOCK_SIZE;
    const e = Math.min(to, a + BLOCK_SIZE);
    fillBlock(rows, tfs, a, e, from, gaps, freqs);
    let maxTf = 0;
    let minNorm = 255;
    for (let i = a; i < e; i++) {
      if (tfs[i]! > maxTf) maxTf = tfs[i]!;
      if (norms[rows[i]!]! < minNorm) minNorm = norms[rows[i]!]!;
    }
    out[1 + b] = rows[e - 1]!;
    out[1 + n + b] = at;
    out[1 + 2 * n + 1 + b] = maxTf;
    minNorms[b] = minNorm;
    const w = head + at;
    out[w] = rowBits[b]! | (tfBits[b]! << 8);
    pack(gaps, 0, e - a, rowBits[b]!, out, w + 1);
    pack(freqs, 0, e - a, tfBits[b]!, out, w + 1 + packedWords(e - a, rowBits[b]!));
    at += 1 + packedWords(e - a, rowBits[b]!) + packedWords(e - a, tfBits[b]!);
  }
  out[1 + 2 * n] = at;
  return out;
}

function fillBlock(
  rows: ArrayLike<number>, tfs: ArrayLike<number>, a: number, e: number, from: number,
  gaps: Uint32Array, freqs: Uint32Array,
): void {
  let prev = a === from ? -1 : rows[a - 1]!;
  for (let i = a; i < e; i++) {
    const row = rows[i]!;
    if (row <= prev) throw new RangeError(`postings rows must ascend: ${row} after ${prev}`);
    gaps[i - a] = row - prev - 1;
    freqs[i - a] = tfs[i]! - 1;
    prev = row;
  }
}

/**
 * Reads one term's postings block by block. shallowAdvance moves over the skip table only;
 * advance and next decode the block they land in (once). Positions only move forward.
 */
export class PostingsCursor {
  readonly blocks: number;
  /** The block the cursor is in (blocks when exhausted). */
  block = 0;
  private readonly lastRows: Uint32Array;
  private readonly starts: Uint32Array;
  private readonly maxTfs: Uint32Array;
  private readonly minNorms: Uint8Array;
  private readonly base: number;
  // One allocation for both: a typed array's backing store costs ≈1 µs, and a query opens a
  // cursor per term and segment.
  private readonly buffer = new Uint32Array(2 * BLOCK_SIZE);
  private readonly rows = this.buffer.subarray(0, BLOCK_SIZE);
  private readonly tfs = this.buffer.subarray(BLOCK_SIZE);
  private decoded = -1;
  private count = 0;
  private pos = 0;
  private target = 0;

  constructor(private readonly words: Uint32Array, readonly docFreq: number) {
    const n = words[0]!;
    this.blocks = n;
    this.lastRows = words.subarray(1, 1 + n);
    this.starts = words.subarray(1 + n, 2 + 2 * n);
    this.maxTfs = words.subarray(2 + 2 * n, 2 + 3 * n);
    this.minNorms = new Uint8Array(words.buffer, words.byteOffset + (2 + 3 * n) * 4, n);
    this.base = 2 + 3 * n + Math.ceil(n / 4);
  }

  lastRow(b: number): number {
    return this.lastRows[b]!;
  }

  maxTf(b: number): number {
    return this.maxTfs[b]!;
  }

  minNorm(b: number): number {
    return this.minNorms[b]!;
  }

  /** Moves to the first block that can hold a row ≥ target, decoding nothing. */
  shallowAdvance(target: number): void {
    if (target > this.target) this.target = target;
    let b = this.block;
    while (b < this.blocks && this.lastRows[b]! < target) b++;
    this.block = b;
  }

  /** A row ≤ the next row ≥ the last target (NO_MORE_ROWS when exhausted), without decoding. */
  lowerBound(): number {
    const b = this.block;
    if (b >= this.blocks) return NO_MORE_ROWS;
    if (this.decoded === b && this.pos < this.count) return Math.max(this.rows[this.pos]!, this.target);
    return Math.max(this.target, b === 0 ? 0 : this.lastRows[b - 1]! + 1);
  }

  /** The first row ≥ target, or NO_MORE_ROWS. */
  advance(target: number): number {
    if (this.decoded === this.block && this.pos < this.count && this.rows[this.pos]! >= target) return this.rows[this.pos]!;
    this.shallowAdvance(target);
    const b = this.block;
    if (b >= this.blocks) return NO_MORE_ROWS;
    if (this.decoded !== b) this.decode(b);
    const rows = this.rows;
    let p = this.pos;
    while (rows[p]! < target) p++; // the block's last row is ≥ target
    this.pos = p;
    return rows[p]!;
  }

  /** The row after the current one (call after advance), or NO_MORE_ROWS. */
  next(): number {
    if (++this.pos < this.count) return this.rows[this.pos]!;
    if (++this.block >= this.blocks) return NO_MORE_ROWS;
    this.decode(this.block);
    return this.rows[0]!;
  }

  /** The tf of the current row. */
  tf(): number {
    return this.tfs[this.pos]!;
  }

  /** Every posting, decoded. */
  decodeAll(): { rows: Uint32Array; tfs: Uint32Array } {
    const rows = new Uint32Array(this.docFreq);
    const tfs = new Uint32Array(this.docFreq);
    for (let b = 0; b < this.blocks; b++) {
      this.decode(b);
      rows.set(this.rows.subarray(0, this.count), b * BLOCK_SIZE);
      tfs.set(this.tfs.subarray(0, this.count), b * BLOCK_SIZE);
    }
    this.decoded = -1;
    this.block = 0;
    this.pos = 0;
    this.target = 0;
    return { rows, tfs };
  }

  private decode(b: number): void {
    const count = b === this.blocks - 1 ? this.docFreq - b * BLOCK_SIZE : BLOCK_SIZE;
    const at = this.base + this.starts[b]!;
    const header = this.words[at]!;
    const rowBits = header & 0xff;
    const tfBits = (header >>> 8) & 0xff;
    const rows = this.rows;
    const tfs = this.tfs;
    unpack(this.words, at + 1, count, rowBits, rows);
    unpack(this.words, at + 1 + packedWords(count, rowBits), count, tfBits, tfs);
    let prev = b === 0 ? -1 : this.lastRows[b - 1]!;
    for (let i = 0; i < count; i++) {
      prev = prev + rows[i]! + 1;
      rows[i] = prev;
      tfs[i] = tfs[i]! + 1;
    }
    this.decoded = b;
    this.count = count;
    this.pos = 0;
  }
}
