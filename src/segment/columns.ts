// `attr:{name}` sections: one column per attribute, so a filter on one attribute can fetch one
// column. Every column starts with u32 rows, u32 type code, then (bit set = value present):
//
//   integer, float   presence bitmap, f64[rows]                     (integers are within ±2^53)
//   boolean          u8[rows]: 0 false, 1 true, 2 null
//   string           presence bitmap, u32 offsets[rows + 1], UTF-8 blob
//   array<string>    presence bitmap, u32 rowStarts[rows + 1] (into elements),
//                    u32 elementOffsets[elements + 1], UTF-8 blob
//   array<integer>   presence bitmap, u32 rowStarts[rows + 1], f64 elements[elements]
//
// An empty array is present with no elements, distinct from null. Stats (min/max over non-null
// values or array elements, booleans as 0/1, strings by JavaScript `<` as the filters compare)
// go to the footer table, so a planner can skip a segment without fetching any column. String
// bounds longer than 256 UTF-16 units are widened to short ones (see MAX_STAT_CHARS).
import { isStorableValue } from '../schema/limits.ts';
import type { AttributeType, AttributeValue } from '../schema/types.ts';
import { bitmapBytes, getBit, packStrings, SectionCursor, SectionWriter, setBit } from './binary.ts';
import type { ColumnStats } from './format.ts';

const TYPE_CODES: Record<AttributeType, number> = {
  'integer': 1, 'float': 2, 'boolean': 3, 'string': 4, 'array<string>': 5, 'array<integer>': 6,
};

class StatsAccumulator {
  min: number | string | undefined;
  max: number | string | undefined;
  hasNull = false;

  add(v: number | string): void {
    if (this.min === undefined || v < this.min) this.min = v;
    if (this.max === undefined || v > this.max) this.max = v;
  }

  result(): ColumnStats | null {
    if (this.min === undefined || this.max === undefined) return null;
    if (typeof this.min === 'number' || typeof this.max === 'number') {
      return { min: this.min, max: this.max, hasNull: this.hasNull };
    }
    const max = upperBound(this.max);
    return max === null ? null : { min: lowerBound(this.min), max, hasNull: this.hasNull };
  }
}

// Stats travel in the footer and in every manifest version, so one huge string value must not
// make them huge: long bounds are cut to a prefix. Wider bounds only skip fewer segments.
const MAX_STAT_CHARS = 256;

const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/** A prefix of `s`, never splitting a surrogate pair: every string with it is >= it. */
function lowerBound(s: string): string {
  if (s.length <= MAX_STAT_CHARS) return s;
  const cut = isHigh(s.charCodeAt(MAX_STAT_CHARS - 1)) ? MAX_STAT_CHARS - 1 : MAX_STAT_CHARS;
  return s.slice(0, cut);
}

/** A short well-formed string above every string that starts with a prefix of `s`; null if none. */
function upperBound(s: string): string | null {
  if (s.length <= MAX_STAT_CHARS) return s;
  let p = lowerBound(s);
  while (p.length > 0) {
    const u = p.charCodeAt(p.length - 1);
    // Bumping the last code unit works unless that makes a surrogate or passes 0xFFFF.
    if (u < 0xd7ff || (u >= 0xe000 && u < 0xffff)) return p.slice(0, -1) + String.fromCharCode(u + 1);
    p = p.slice(0, isLow(u) && p.length >= 2 ? -2 : -1);
  }
  return null;
}

export function encodeColumn(
  name: string,
  type: AttributeType,
  values: ReadonlyArray<AttributeValue | undefined>,
): { bytes: Buffer; stats: ColumnStats | null } {
  const rows = values.length;
  const stats = new StatsAccumulator();
  const present = new Uint8Array(bitmapBytes(rows));
  const bad = (row: number, want: string): never => {
    throw new TypeError(`row ${row}: attribute '${name}' is ${type}; got ${JSON.stringify(values[row])}, expected ${want}`);
  };
  // The write path's rule (schema/limits.ts): what it accepted is stored exactly, and nothing
  // else gets this far (a UTF-8 blob would silently turn a lone surrogate into U+FFFD).
  for (let row = 0; row < rows; row++) {
    const v = values[row];
    if (v !== null && v !== undefined && !isStorableValue(type, v)) bad(row, `a ${type} value as the write path accepts it`);
  }
  const w = new SectionWriter(rows * 9 + 64);
  w.u32(rows);
  w.u32(TYPE_CODES[type]);

  switch (type) {
    case 'integer':
    case 'float': {
      const col = new Float64Array(rows);
      for (let row = 0; row < rows; row++) {
        const v = values[row];
        if (v === null || v === undefined) { stats.hasNull = true; continue; }
        if (typeof v !== 'number') bad(row, 'a number');
        col[row] = v as number;
        setBit(present, row);
        stats.add(v as number);
      }
      w.array(present);
      w.array(col);
      break;
    }
    case 'boolean': {
      const col = new Uint8Array(rows);
      for (let row = 0; row < rows; row++) {
        const v = values[row];
        if (v === null || v === undefined) { col[row] = 2; stats.hasNull = true; continue; }
        if (typeof v !== 'boolean') bad(row, 'true or false');
        col[row] = v ? 1 : 0;
        stats.add(v ? 1 : 0);
      }
      w.array(col);
      break;
    }
    case 'string': {
      const strings: string[] = [];
      for (let row = 0; row < rows; row++) {
        const v = values[row];
        if (v === null || v === undefined) { stats.hasNull = true; strings.push(''); continue; }
        if (typeof v !== 'string') bad(row, 'a string');
        strings.push(v as string);
        setBit(present, row);
        stats.add(v as string);
      }
      const { offsets, blob } = packStrings(strings);
      w.array(present);
      w.array(offsets);
      w.bytes(blob);
      break;
    }
    case 'array<string>':
    case 'array<integer>': {
      const isString = type === 'array<string>';
      const starts = new Uint32Array(rows + 1);
      const elements: Array<string | number> = [];
      for (let row = 0; row < rows; row++) {
        const v = values[row];
        starts[row] = elements.length;
        if (v === null || v === undefined) { stats.hasNull = true; continue; }
        if (!Array.isArray(v)) bad(row, 'an array');
        for (const e of v as Array<string | number>) {
          if (typeof e !== (isString ? 'string' : 'number')) bad(row, `an array of ${isString ? 'strings' : 'integers'}`);
          elements.push(e);
          stats.add(e);
        }
        setBit(present, row);
      }
      starts[rows] = elements.length;
      w.array(present);
      w.array(starts);
      if (isString) {
        const { offsets, blob } = packStrings(elements as string[]);
        w.array(offsets);
        w.bytes(blob);
      } else {
        w.array(Float64Array.from(elements as number[]));
      }
      break;
    }
  }
  return { bytes: w.finish(), stats: stats.result() };
}

/** Decodes one column; value(row) is null for null or missing values. */
export class ColumnReader {
  readonly rows: number;
  readonly type: AttributeType;
  private present: Uint8Array = new Uint8Array(0);
  private numbers: Float64Array = new Float64Array(0);
  private bools: Uint8Array = new Uint8Array(0);
  private offsets: Uint32Array = new Uint32Array(0);
  private starts: Uint32Array = new Uint32Array(0);
  private blob: Buffer = Buffer.alloc(0);

  constructor(name: string, type: AttributeType, section: Buffer) {
    const c = new SectionCursor(section, `attr:${name}`);
    this.rows = c.u32();
    const code = c.u32();
    if (code !== TYPE_CODES[type]) {
      throw new TypeError(`column '${name}' was written as type code ${code}; the schema says ${type}`);
    }
    this.type = type;
    const rows = this.rows;
    switch (type) {
      case 'integer':
      case 'float':
        this.present = c.u8s(bitmapBytes(rows));
        this.numbers = c.f64s(rows);
        break;
      case 'boolean':
        this.bools = c.u8s(rows);
        break;
      case 'string':
        this.present = c.u8s(bitmapBytes(rows));
        this.offsets = c.u32s(rows + 1);
        this.blob = c.blob(this.offsets[rows]!);
        break;
      case 'array<string>': {
        this.present = c.u8s(bitmapBytes(rows));
        this.starts = c.u32s(rows + 1);
        const elements = this.starts[rows]!;
        this.offsets = c.u32s(elements + 1);
        this.blob = c.blob(this.offsets[elements]!);
        break;
      }
      case 'array<integer>':
        this.present = c.u8s(bitmapBytes(rows));
        this.starts = c.u32s(rows + 1);
        this.numbers = c.f64s(this.starts[rows]!);
        break;
    }
  }

  /** The raw values and presence bits of an integer or float column, for vectorized filters. */
  numeric(): { values: Float64Array; present: Uint8Array } | null {
    return this.type === 'integer' || this.type === 'float' ? { values: this.numbers, present: this.present } : null;
  }

  isNull(row: number): boolean {
    return this.type === 'boolean' ? this.bools[row] === 2 : !getBit(this.present, row);
  }

  value(row: number): AttributeValue {
    switch (this.type) {
      case 'integer':
      case 'float':
        return getBit(this.present, row) ? this.numbers[row]! : null;
      case 'boolean': {
        const b = this.bools[row]!;
        return b === 2 ? null : b === 1;
      }
      case 'string':
        return getBit(this.present, row)
          ? this.blob.toString('utf8', this.offsets[row]!, this.offsets[row + 1]!)
          : null;
      case 'array<string>': {
        if (!getBit(this.present, row)) return null;
        const out: string[] = [];
        for (let e = this.starts[row]!; e < this.starts[row + 1]!; e++) {
          out.push(this.blob.toString('utf8', this.offsets[e]!, this.offsets[e + 1]!));
        }
        return out;
      }
      case 'array<integer>':
        return getBit(this.present, row)
          ? Array.from(this.numbers.subarray(this.starts[row]!, this.starts[row + 1]!))
          : null;
    }
  }
}
