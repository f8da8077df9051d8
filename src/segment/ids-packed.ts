// The packed form of an all-u64 `ids` section (ids.ts): the ids in id order as gaps, and the
// sorted permutation as signed steps, each bit-packed 128 at a time (frame of reference, as
// Lucene's DirectMonotonicWriter and its postings do), after the header (u32 rows, u32 flags):
//
//   value blocks, one per 128 positions of id order (the last may be shorter), n ids each:
//     u32 lo, u32 hi            the block's first id
//     u32 width                 0–32: the n − 1 gaps (id − previous id − 1) packed at that width;
//                               64: the n − 1 ids follow raw, as lo, hi word pairs
//     u32[…]                    the packed gaps, or the raw ids
//   permutation blocks (absent with IN_ID_ORDER), one per 128 positions:
//     u32 first                 the row of the block's first position
//     u32 width                 0–32: zigzag(row − previous row − 1) packed; 33: the n − 1 rows raw
//     u32[…]
//
// Ids are unique, so a gap is never negative. Ids handed out in sequence cost a few bits each
// (1M consecutive ids: 0.16 bytes a row, the block headers), rows written in about id order a
// few more (the steps are small), random u64 ids 8 bytes a row plus 0.16. The section is read
// whole at open and decoded into the same arrays as the raw form, so lookups cost the same.
// What it saves: at 1M u64 ids the raw form was 7.6–11.4 MiB of a cold first query's 25.3 MiB on
// the S3 test server (docs/benchmarks.md, "scale").
import { bitWidth, pack, packedWords, unpack } from './text/bitpack.ts';
import type { SectionCursor, SectionWriter } from './binary.ts';

const BLOCK = 128;
const RAW_IDS = 64;
const RAW_ROWS = 33;
const TWO_32 = 2 ** 32;

/** Writes the value blocks of `values` (row order) taken in id order (`sorted`), then the permutation unless `inOrder`. */
export function writePackedIds(w: SectionWriter, values: BigUint64Array, sorted: Uint32Array, inOrder: boolean): void {
  const rows = values.length;
  const gaps = new Uint32Array(BLOCK);
  const steps = new Uint32Array(BLOCK);
  for (let from = 0; from < rows; from += BLOCK) {
    const n = Math.min(BLOCK, rows - from);
    const first = values[sorted[from]!]!;
    w.u32(Number(first & 0xffffffffn));
    w.u32(Number(first >> 32n));
    let fits = true;
    for (let i = 1; i < n && fits; i++) {
      const gap = values[sorted[from + i]!]! - values[sorted[from + i - 1]!]! - 1n;
      if (gap >= 0x1_0000_0000n) fits = false;
      else gaps[i - 1] = Number(gap);
    }
    if (!fits) {
      w.u32(RAW_IDS);
      for (let i = 1; i < n; i++) {
        const v = values[sorted[from + i]!]!;
        w.u32(Number(v & 0xffffffffn));
        w.u32(Number(v >> 32n));
      }
      continue;
    }
    const width = bitWidth(gaps, 0, n - 1);
    w.u32(width);
    writePacked(w, gaps, n - 1, width);
  }
  if (inOrder) return;
  for (let from = 0; from < rows; from += BLOCK) {
    const n = Math.min(BLOCK, rows - from);
    w.u32(sorted[from]!);
    let fits = true;
    for (let i = 1; i < n && fits; i++) {
      const step = sorted[from + i]! - sorted[from + i - 1]! - 1;
      const zigzag = step >= 0 ? 2 * step : -2 * step - 1;
      if (zigzag >= TWO_32) fits = false;
      else steps[i - 1] = zigzag;
    }
    if (!fits) {
      w.u32(RAW_ROWS);
      w.array(sorted.slice(from + 1, from + n));
      continue;
    }
    const width = bitWidth(steps, 0, n - 1);
    w.u32(width);
    writePacked(w, steps, n - 1, width);
  }
}

function writePacked(w: SectionWriter, values: Uint32Array, count: number, width: number): void {
  const words = new Uint32Array(packedWords(count, width));
  pack(values, 0, count, width, words, 0);
  w.array(words);
}

/** Decodes what writePackedIds wrote: the ids in row order, and the permutation (null with `inOrder`). */
export function readPackedIds(c: SectionCursor, rows: number, inOrder: boolean): { values: BigUint64Array; sorted: Uint32Array | null } {
  // The gaps are added in 32-bit halves, not as bigints (one bigint a row costs ≈ 50 ns: 50 ms at 1M).
  const byPosition = new Uint32Array(2 * rows);
  const gaps = new Uint32Array(BLOCK);
  for (let from = 0; from < rows; from += BLOCK) {
    const n = Math.min(BLOCK, rows - from);
    let lo = c.u32();
    let hi = c.u32();
    byPosition[2 * from] = lo;
    byPosition[2 * from + 1] = hi;
    const width = c.u32();
    if (width === RAW_IDS) {
      byPosition.set(c.u32s(2 * (n - 1)), 2 * (from + 1));
      continue;
    }
    if (width > 32) throw new RangeError(`section ids: block at ${from} has gap width ${width}`);
    unpack(c.u32s(packedWords(n - 1, width)), 0, n - 1, width, gaps);
    for (let i = 1; i < n; i++) {
      lo += gaps[i - 1]! + 1;
      if (lo >= TWO_32) {
        lo -= TWO_32;
        hi++;
      }
      byPosition[2 * (from + i)] = lo;
      byPosition[2 * (from + i) + 1] = hi;
    }
    if (hi >= TWO_32) throw new RangeError(`section ids: block at ${from} runs past 2^64`);
  }
  if (inOrder) return { values: new BigUint64Array(byPosition.buffer), sorted: null };

  const sorted = new Uint32Array(rows);
  const steps = new Uint32Array(BLOCK);
  for (let from = 0; from < rows; from += BLOCK) {
    const n = Math.min(BLOCK, rows - from);
    let row = c.u32();
    sorted[from] = row;
    const width = c.u32();
    if (width === RAW_ROWS) {
      sorted.set(c.u32s(n - 1), from + 1);
      continue;
    }
    if (width > 32) throw new RangeError(`section ids: permutation block at ${from} has width ${width}`);
    unpack(c.u32s(packedWords(n - 1, width)), 0, n - 1, width, steps);
    for (let i = 1; i < n; i++) {
      const z = steps[i - 1]!;
      row += 1 + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      sorted[from + i] = row;
    }
  }
  const byRow = new Uint32Array(2 * rows);
  for (let i = 0; i < rows; i++) {
    const row = sorted[i]!;
    if (!(row < rows)) throw new RangeError(`section ids: position ${i} names row ${row} of ${rows}`);
    byRow[2 * row] = byPosition[2 * i]!;
    byRow[2 * row + 1] = byPosition[2 * i + 1]!;
  }
  return { values: new BigUint64Array(byRow.buffer), sorted };
}
