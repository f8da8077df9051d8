// The `ids` section: each row's id, plus a sorted permutation for rowOfId by binary search.
//
//   u32 rows, u32 u64Count
//   u8[rows]        kind: 0 = u64, 1 = string
//   u64[rows]       the u64 id (0 for string rows)
//   u32[rows + 1]   string offsets into the blob (empty range for u64 rows)
//   u32[rows]       sorted: rows with u64 ids by value, then rows with string ids by UTF-8 bytes
//   blob            UTF-8 of the string ids
//
// A segment whose ids are all u64 is written compact instead: the kinds and string offsets (5
// bytes a row, all zeros) are left out, and so is `sorted` when the rows already are in id order.
// Segments are now written packed (ids-packed.ts: gaps and steps bit-packed 128 at a time);
// segments written before hold them raw:
//
//   u32 rows, u32 U64_ONLY | PACKED | (IN_ID_ORDER when sorted is left out)
//   raw:    u64[rows] the ids, then u32[rows] sorted (absent with IN_ID_ORDER)
//   packed: the blocks of ids-packed.ts
//
// The section is read whole at open: at 1M u64 ids that is 16.2 MiB in the first form, 11.4 MiB
// compact, 7.6 MiB in id order, of a cold first query's 31.5 MiB on the S3 test server
// (docs/benchmarks.md, "scale"); packed, 1M ids handed out in sequence take 0.15 MiB. u64Count <
// 2^31 in the first form, so the flags cannot be mistaken for a count.
//
// Sorting u64s numerically and strings by bytes (instead of by idKey text) lets a lookup compare
// bigints or bytes directly, with no string building per probe.
import { unicodeProblem } from '../schema/limits.ts';
import type { DocId } from '../schema/types.ts';
import { packStrings, SectionCursor, SectionWriter } from './binary.ts';
import { readPackedIds, writePackedIds } from './ids-packed.ts';

const KIND_U64 = 0;
const KIND_STRING = 1;
/** Second header word of the compact form: every id is a u64. */
const U64_ONLY = 0x8000_0000;
/** With U64_ONLY: row order is id order, so no `sorted` follows. */
const IN_ID_ORDER = 0x4000_0000;
/** With U64_ONLY: the ids (and `sorted`) are bit-packed blocks (ids-packed.ts), not raw arrays. */
const PACKED = 0x2000_0000;

export function encodeIds(ids: readonly DocId[]): Buffer {
  const rows = ids.length;
  const kinds = new Uint8Array(rows);
  const values = new BigUint64Array(rows);
  const strings: string[] = [];
  const u64Rows: number[] = [];
  const stringRows: number[] = [];
  for (let row = 0; row < rows; row++) {
    const id = ids[row]!;
    if (typeof id === 'bigint') {
      if (id < 0n || id > 0xffffffffffffffffn) throw new RangeError(`id ${id} is not a u64`);
      values[row] = id;
      strings.push('');
      u64Rows.push(row);
    } else {
      // UTF-8 has no form for a lone surrogate: two such ids would collapse into one here.
      const problem = unicodeProblem(id);
      if (problem !== null) throw new RangeError(`row ${row}: id ${JSON.stringify(id)}: ${problem}`);
      kinds[row] = KIND_STRING;
      strings.push(id);
      stringRows.push(row);
    }
  }
  const { offsets, blob } = packStrings(strings);
  u64Rows.sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : 0));
  const cmpStr = (a: number, b: number) =>
    blob.compare(blob, offsets[b]!, offsets[b + 1]!, offsets[a]!, offsets[a + 1]!);
  stringRows.sort(cmpStr);
  for (let i = 1; i < u64Rows.length; i++) {
    if (values[u64Rows[i]!] === values[u64Rows[i - 1]!]) throw new Error(`duplicate id ${values[u64Rows[i]!]}`);
  }
  for (let i = 1; i < stringRows.length; i++) {
    if (cmpStr(stringRows[i]!, stringRows[i - 1]!) === 0) throw new Error(`duplicate id ${JSON.stringify(ids[stringRows[i]!])}`);
  }
  const sorted = Uint32Array.from([...u64Rows, ...stringRows]);

  if (stringRows.length === 0) {
    const inOrder = sorted.every((row, i) => row === i);
    const w = new SectionWriter(rows * 2 + 64);
    w.u32(rows);
    w.u32((U64_ONLY | PACKED | (inOrder ? IN_ID_ORDER : 0)) >>> 0);
    writePackedIds(w, values, sorted, inOrder);
    return w.finish();
  }
  const w = new SectionWriter(rows * 21 + blob.byteLength + 64);
  w.u32(rows);
  w.u32(u64Rows.length);
  w.array(kinds);
  w.array(values);
  w.array(offsets);
  w.array(sorted);
  w.bytes(blob);
  return w.finish();
}

/** Stands in for `sorted` when row order is id order. */
const IDENTITY = { at: (i: number) => i };

export class IdColumn {
  readonly rows: number;
  private readonly u64Count: number;
  private readonly values: BigUint64Array;
  /** Absent in the compact form (every id a u64). */
  private readonly strings: { kinds: Uint8Array; offsets: Uint32Array; blob: Buffer } | null;
  private readonly sorted: { at(i: number): number };

  constructor(section: Buffer) {
    const c = new SectionCursor(section, 'ids');
    this.rows = c.u32();
    const second = c.u32();
    if ((second & U64_ONLY) !== 0) {
      this.u64Count = this.rows;
      this.strings = null;
      const inOrder = (second & IN_ID_ORDER) !== 0;
      const raw = (second & PACKED) === 0;
      const packed = raw ? null : readPackedIds(c, this.rows, inOrder);
      this.values = packed?.values ?? c.u64s(this.rows);
      const sorted = inOrder ? null : packed?.sorted ?? c.u32s(this.rows);
      this.sorted = sorted === null ? IDENTITY : { at: (i) => sorted[i]! };
      return;
    }
    this.u64Count = second;
    const kinds = c.u8s(this.rows);
    this.values = c.u64s(this.rows);
    const offsets = c.u32s(this.rows + 1);
    const sorted = c.u32s(this.rows);
    this.strings = { kinds, offsets, blob: c.blob(offsets[this.rows]!) };
    this.sorted = { at: (i) => sorted[i]! };
  }

  id(row: number): DocId {
    if (row < 0 || row >= this.rows) throw new RangeError(`row ${row} outside segment of ${this.rows} rows`);
    const s = this.strings;
    return s === null || s.kinds[row] === KIND_U64
      ? this.values[row]!
      : s.blob.toString('utf8', s.offsets[row]!, s.offsets[row + 1]!);
  }

  rowOf(id: DocId): number | undefined {
    const sorted = this.sorted;
    if (typeof id === 'bigint') {
      let lo = 0;
      let hi = this.u64Count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const row = sorted.at(mid);
        const v = this.values[row]!;
        if (v < id) lo = mid + 1;
        else if (v > id) hi = mid - 1;
        else return row;
      }
      return undefined;
    }
    const s = this.strings;
    if (s === null) return undefined;
    const key = Buffer.from(id, 'utf8');
    let lo = this.u64Count;
    let hi = this.rows - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const row = sorted.at(mid);
      const c = s.blob.compare(key, 0, key.byteLength, s.offsets[row]!, s.offsets[row + 1]!);
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid - 1;
      else return row;
    }
    return undefined;
  }

  /** The row at position `i` of id order: u64 ids ascending, then string ids by UTF-8 bytes. */
  rowInIdOrder(i: number): number {
    return this.sorted.at(i);
  }

  /** The first position of id order whose id is greater than `id` (or not less, when `inclusive`). */
  positionAfter(id: DocId, inclusive: boolean): number {
    const sorted = this.sorted;
    let lo = 0;
    let hi = this.rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareAt(sorted.at(mid), id);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The id of `row` compared with `id`, in id order. */
  private compareAt(row: number, id: DocId): number {
    const s = this.strings;
    const isU64 = s === null || s.kinds[row] === KIND_U64;
    if (typeof id === 'bigint') {
      if (!isU64) return 1;
      const v = this.values[row]!;
      return v < id ? -1 : v > id ? 1 : 0;
    }
    if (isU64) return -1;
    const key = Buffer.from(id, 'utf8');
    return s!.blob.compare(key, 0, key.byteLength, s!.offsets[row]!, s!.offsets[row + 1]!);
  }
}
