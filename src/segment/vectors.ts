// The `vectors` section: the raw vectors for exact distances (re-ranking HNSW results, exact
// search of small or heavily filtered sets) and compaction.
//
//   u32 rows, u32 dim
//   f32[rows × dim]   row r at r × dim; zeros for rows without a vector
//   f32[rows]         norms (0 for rows without a vector)
//   has-vector bitmap (bit set = the row has a vector)
import { vectorProblem } from '../schema/limits.ts';
import { norm } from './distance.ts';
import type { VectorAccess } from './vector-search.ts';
import { bitmapBytes, getBit, SectionCursor, SectionWriter, setBit } from './binary.ts';

/** hasVector, once every flagged row passed the write path's rule (schema/limits.ts). */
export function checkedVectors(rows: number, dim: number, vectors: Float32Array, hasVector: Uint8Array): Uint8Array {
  for (let row = 0; row < rows; row++) {
    if (hasVector[row] !== 1) continue;
    const bad = vectorProblem(vectors, row * dim, dim);
    if (bad !== null) {
      throw new RangeError(`row ${row}: vector ${bad.component === null ? '' : `component ${bad.component} `}${bad.problem}`);
    }
  }
  return hasVector;
}

export function encodeVectors(
  rows: number,
  dim: number,
  vectors: Float32Array,
  hasVector: Uint8Array,
): Buffer {
  const data = new Float32Array(rows * dim);
  const norms = new Float32Array(rows);
  const bits = new Uint8Array(bitmapBytes(rows));
  for (let row = 0; row < rows; row++) {
    if (hasVector[row] !== 1) continue;
    const off = row * dim;
    // The write path's rule (schema/limits.ts), so an accepted vector never fails here.
    const bad = vectorProblem(vectors, off, dim);
    if (bad !== null) {
      throw new RangeError(`row ${row}: vector ${bad.component === null ? '' : `component ${bad.component} `}${bad.problem}`);
    }
    data.set(vectors.subarray(off, off + dim), off);
    norms[row] = norm(data, off, dim);
    setBit(bits, row);
  }
  const w = new SectionWriter(data.byteLength + norms.byteLength + bits.byteLength + 16);
  w.u32(rows);
  w.u32(dim);
  w.array(data);
  w.array(norms);
  w.array(bits);
  return w.finish();
}

export class VectorColumn implements VectorAccess {
  readonly rows: number;
  readonly dim: number;
  readonly data: Float32Array;
  readonly norms: Float32Array;
  private readonly bits: Uint8Array;

  constructor(section: Buffer) {
    const c = new SectionCursor(section, 'vectors');
    this.rows = c.u32();
    this.dim = c.u32();
    this.data = c.f32s(this.rows * this.dim);
    this.norms = c.f32s(this.rows);
    this.bits = c.u8s(bitmapBytes(this.rows));
  }

  has(row: number): boolean {
    return getBit(this.bits, row);
  }

  /** Offset of the row's vector in data, or -1 when the row has none. */
  offset(row: number): number {
    return getBit(this.bits, row) ? row * this.dim : -1;
  }
}
