// Reading a segment's IVF sections (their layout: ivf.ts, which writes them): the directory
// (`ivf`, with `ivf.centroids` and `ivf.rows` when they are apart), one cluster's codes block,
// and the `ivf.vectors` records as row-addressed vectors; and the format's constants both sides
// share.
import { SectionCursor } from './binary.ts';
import type { VectorAccess } from './vector-search.ts';

export const NONE = 0xffffffff;
/** Set in the directory's code kind word: norms and slots are in `ivf.rows`, and each block ends with its rows' norms. */
export const ROWS_APART = 0x100;
/** Set in the directory's code kind word: the centroids are the `ivf.centroids` section. */
export const CENTROIDS_APART = 0x200;

export type CodeKind = 'u8' | 'bits' | 'rabitq';
export const CODE_KINDS: readonly CodeKind[] = ['u8', 'bits', 'rabitq'];

/** f32 values a row carries after its code: bits 1 (factor), rabitq 2 (factor, then offset, as two arrays). */
export function floatsPerRow(kind: CodeKind): number {
  return kind === 'u8' ? 0 : kind === 'bits' ? 1 : 2;
}

/** One `ivf.vectors` record: the float32 vector, then the CRC-32 of its bytes. */
export function recordBytes(dim: number): number {
  return 4 * dim + 4;
}

export function codeBytesOf(kind: CodeKind, dim: number): number {
  return kind === 'u8' ? dim : rotatedDim(dim) / 8;
}

/** The bits codes' rotation works on the next power of two ≥ dim (and ≥ 8), zero-padded. */
export function rotatedDim(dim: number): number {
  let p = 8;
  while (p < dim) p *= 2;
  return p;
}

/**
 * Where a segment's float32 vectors are: `apart` in `ivf.vectors` (codes blocks in `ivf.codes`),
 * or, in segments written before, at the end of each cluster's block in `ivf.clusters`.
 */
export type IvfLayout = 'apart' | 'blocks';

/** The decoded `ivf` section (the same bytes in both layouts; its block offsets say where). */
export class IvfDirectory {
  readonly rows: number;
  readonly dim: number;
  readonly clusters: number;
  readonly vectorRows: number;
  readonly codes: CodeKind;
  readonly codeBytes: number;
  /** Seeds the bits codes' rotation. */
  readonly seed: number;
  readonly centroids: Float32Array;
  readonly blockOffsets: Float64Array;
  readonly slotStart: Uint32Array;
  readonly crcs: Uint32Array;
  readonly min: Float32Array;
  readonly step: Float32Array;
  /** Whether the norms and slots are in `ivf.rows` (and each block carries its rows' norms). */
  readonly rowsApart: boolean;
  #norms: Float32Array | null = null;
  #slotOf: Uint32Array | null = null;

  /**
   * `centroids`, for a directory written with CENTROIDS_APART: the `ivf.centroids` section as
   * read (8-byte aligned, padded to 8), or the route's floats, already checked against it.
   */
  constructor(section: Buffer, readonly layout: IvfLayout = 'apart', centroids?: Buffer | Float32Array) {
    const c = new SectionCursor(section, 'ivf');
    this.rows = c.u32();
    this.dim = c.u32();
    this.clusters = c.u32();
    this.vectorRows = c.u32();
    const word = c.u32();
    const kind = CODE_KINDS[word & ~(ROWS_APART | CENTROIDS_APART)];
    if (kind === undefined) throw new RangeError('section ivf: unknown code kind');
    this.codes = kind;
    this.rowsApart = (word & ROWS_APART) !== 0;
    this.codeBytes = codeBytesOf(kind, this.dim);
    this.seed = c.u32();
    const floats = this.clusters * this.dim;
    if ((word & CENTROIDS_APART) === 0) this.centroids = c.f32s(floats);
    else if (centroids === undefined) throw new RangeError('section ivf: its centroids are in ivf.centroids, which was not given');
    else if (centroids instanceof Float32Array) {
      if (centroids.length !== floats) throw new RangeError(`${centroids.length} centroid floats, the directory says ${this.clusters} × ${this.dim}`);
      this.centroids = centroids;
    } else this.centroids = new SectionCursor(centroids, 'ivf.centroids').f32s(floats);
    this.blockOffsets = c.f64s(this.clusters + 1);
    this.slotStart = c.u32s(this.clusters + 1);
    this.crcs = c.u32s(this.clusters);
    this.min = c.f32s(this.dim);
    this.step = c.f32s(this.dim);
    if (!this.rowsApart) this.readRows(c);
    if (this.slotStart[this.clusters] !== this.vectorRows) {
      throw new RangeError(`section ivf: clusters hold ${this.slotStart[this.clusters]} vectors, the header says ${this.vectorRows}`);
    }
  }

  /** Whether norms and slotOf may be used: always without ROWS_APART, else once attachRows ran. */
  get rowsLoaded(): boolean {
    return this.#norms !== null;
  }

  /** Each row's norm (0 without a vector); with ROWS_APART only after attachRows. */
  get norms(): Float32Array {
    if (this.#norms === null) throw new Error('IVF norms not loaded: read ivf.rows first (IvfIndex.loadRows)');
    return this.#norms;
  }

  /** Each row's slot (0xffffffff without a vector); with ROWS_APART only after attachRows. */
  get slotOf(): Uint32Array {
    if (this.#slotOf === null) throw new Error('IVF slots not loaded: read ivf.rows first (IvfIndex.loadRows)');
    return this.#slotOf;
  }

  /** Takes the norms and slots from the `ivf.rows` section (CRC-checked by the caller). */
  attachRows(section: Buffer): void {
    const c = new SectionCursor(section, 'ivf.rows');
    this.readRows(c);
  }

  private readRows(c: SectionCursor): void {
    this.#norms = c.f32s(this.rows);
    this.#slotOf = c.u32s(this.rows);
  }

  /** The cluster holding `slot` (binary search over slotStart). */
  clusterOfSlot(slot: number): number {
    let lo = 0;
    let hi = this.clusters - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.slotStart[mid]! <= slot) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Byte range of cluster c's block in `ivf.codes` (`ivf.clusters`). */
  blockRange(c: number): { offset: number; length: number } {
    return { offset: this.blockOffsets[c]!, length: this.blockOffsets[c + 1]! - this.blockOffsets[c]! };
  }

  size(c: number): number {
    return this.slotStart[c + 1]! - this.slotStart[c]!;
  }

  /** Byte offset of the float32 factors inside cluster c's block. */
  factorsAt(c: number): number {
    const n = this.size(c);
    return Math.ceil((4 * n + n * this.codeBytes) / 4) * 4;
  }

  /** Byte offset of the float32 vectors inside cluster c's block (`blocks` layout), or of its rows' norms (ROWS_APART). */
  vectorsAt(c: number): number {
    return this.factorsAt(c) + 4 * floatsPerRow(this.codes) * this.size(c);
  }
}

/** One cluster's block, decoded as views over its bytes (8-byte aligned). */
export interface IvfCluster {
  rows: Uint32Array;
  codes: Uint8Array;
  /**
   * bits: ‖r‖² / Σ|r_d| per row; rabitq: those n factors, then n offsets (c·r − factor × Σ
   * sign(r_d) c_d); empty for u8.
   */
  factors: Float32Array;
  /** The cluster's float32 vectors: only in the `blocks` layout (`apart`: in `ivf.vectors`). */
  vectors: Float32Array | null;
  /** Each row's norm, with ROWS_APART (else in the directory). */
  norms: Float32Array | null;
}

export function decodeCluster(dir: IvfDirectory, c: number, block: Uint8Array): IvfCluster {
  const n = dir.size(c);
  const dim = dir.dim;
  const at = block.byteOffset;
  const blocks = dir.layout === 'blocks';
  const end = dir.vectorsAt(c) + (blocks ? n * dim * 4 : 0) + (dir.rowsApart ? n * 4 : 0);
  if (block.byteLength < end) throw new RangeError(`cluster ${c} needs ${end} bytes, has ${block.byteLength}`);
  return {
    rows: new Uint32Array(block.buffer, at, n),
    codes: new Uint8Array(block.buffer, at + 4 * n, n * dir.codeBytes),
    factors: new Float32Array(block.buffer, at + dir.factorsAt(c), floatsPerRow(dir.codes) * n),
    vectors: blocks ? new Float32Array(block.buffer, at + dir.vectorsAt(c), n * dim) : null,
    norms: dir.rowsApart ? new Float32Array(block.buffer, at + dir.vectorsAt(c), n) : null,
  };
}

/**
 * Row-addressed access to every vector: a fully loaded `ivf.vectors` section (records of dim + 1
 * words: the data is viewed whole, each row at slot × (dim + 1)), or `ivf.clusters` (blocks).
 */
export class IvfVectors implements VectorAccess {
  readonly rows: number;
  readonly data: Float32Array;
  readonly norms: Float32Array;

  constructor(private readonly dir: IvfDirectory, private readonly section: Buffer) {
    if (section.byteOffset % 4 !== 0) throw new Error('buffer is not 4-byte aligned');
    const expected = dir.layout === 'apart' ? dir.vectorRows * recordBytes(dir.dim) : dir.blockOffsets[dir.clusters]!;
    if (section.byteLength !== expected) throw new RangeError(`${section.byteLength} bytes, the directory says ${expected}`);
    this.rows = dir.rows;
    this.data = new Float32Array(section.buffer, section.byteOffset, section.byteLength >>> 2);
    this.norms = dir.norms;
  }

  /** Cluster c's block, a view of the section (`blocks` layout). */
  block(c: number): Buffer {
    const { offset, length } = this.dir.blockRange(c);
    return this.section.subarray(offset, offset + length);
  }

  has(row: number): boolean {
    return this.dir.slotOf[row] !== NONE;
  }

  offset(row: number): number {
    const { dir } = this;
    const slot = dir.slotOf[row]!;
    if (slot === NONE) return -1;
    if (dir.layout === 'apart') return slot * (dir.dim + 1);
    const c = dir.clusterOfSlot(slot);
    return (dir.blockOffsets[c]! + dir.vectorsAt(c)) / 4 + (slot - dir.slotStart[c]!) * dir.dim;
  }
}
