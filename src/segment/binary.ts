// Little-endian building blocks of the segment format: a growable writer that keeps typed arrays
// aligned, a cursor that reads them back as zero-copy views, and null bitmaps.
//
// Every section starts 8-byte aligned inside its own buffer, and every typed array inside a
// section starts at a multiple of its element size, so a reader can view the bytes as
// Uint32Array / Float32Array / Float64Array / BigUint64Array without copying them.

export class SectionWriter {
  private buf: Buffer;
  private len = 0;

  constructor(capacity = 1024) {
    this.buf = Buffer.alloc(Math.max(16, capacity));
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.alloc(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Pads with zero bytes up to a multiple of n. */
  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.reserve(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
  }

  /** Writes a typed array aligned to its element size (the bytes are little-endian on x86/ARM). */
  array(a: Uint32Array | Float32Array | Float64Array | BigUint64Array | Uint8Array): void {
    this.align(a.BYTES_PER_ELEMENT);
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  /** The written bytes (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    this.align(8);
    return this.buf.subarray(0, this.len);
  }
}

/** Reads what SectionWriter wrote, in the same order. `buf` must be 8-byte aligned. */
export class SectionCursor {
  private pos = 0;

  constructor(private readonly buf: Uint8Array, private readonly section: string) {
    if (buf.byteOffset % 8 !== 0) throw new Error(`section ${section}: buffer is not 8-byte aligned`);
  }

  private take(bytes: number, align: number): number {
    this.pos += (align - (this.pos % align)) % align;
    const at = this.pos;
    if (at + bytes > this.buf.byteLength) {
      throw new RangeError(`section ${this.section}: needs ${at + bytes} bytes, has ${this.buf.byteLength}`);
    }
    this.pos += bytes;
    return this.buf.byteOffset + at;
  }

  u32(): number {
    const at = this.take(4, 4);
    return new DataView(this.buf.buffer).getUint32(at, true);
  }

  u8s(n: number): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.take(n, 1), n);
  }

  u32s(n: number): Uint32Array {
    return new Uint32Array(this.buf.buffer, this.take(n * 4, 4), n);
  }

  f32s(n: number): Float32Array {
    return new Float32Array(this.buf.buffer, this.take(n * 4, 4), n);
  }

  f64s(n: number): Float64Array {
    return new Float64Array(this.buf.buffer, this.take(n * 8, 8), n);
  }

  u64s(n: number): BigUint64Array {
    return new BigUint64Array(this.buf.buffer, this.take(n * 8, 8), n);
  }

  /** A Buffer view of the next n bytes (for UTF-8 blobs). */
  blob(n: number): Buffer {
    return Buffer.from(this.buf.buffer, this.take(n, 1), n);
  }
}

// --- null bitmaps: bit set = value present ----------------------------------------------------

export function bitmapBytes(rows: number): number {
  return (rows + 7) >>> 3;
}

export function setBit(bits: Uint8Array, i: number): void {
  bits[i >>> 3]! |= 1 << (i & 7);
}

export function getBit(bits: Uint8Array, i: number): boolean {
  return (bits[i >>> 3]! & (1 << (i & 7))) !== 0;
}

// --- UTF-8 -------------------------------------------------------------------------------------

/** Encodes strings into one blob with u32 offsets (offsets[i]..offsets[i+1] is string i). */
export function packStrings(values: readonly string[]): { offsets: Uint32Array; blob: Buffer } {
  const parts = values.map((s) => Buffer.from(s, 'utf8'));
  const offsets = new Uint32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    total += parts[i]!.byteLength;
    if (total > 0xffffffff) throw new RangeError('string blob exceeds 4 GiB');
    offsets[i + 1] = total;
  }
  return { offsets, blob: Buffer.concat(parts, total) };
}
