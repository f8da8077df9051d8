// Fixed-width bit-packing of small unsigned integers into u32 words, LSB first, as Lucene's
// ForUtil and tantivy's bitpacker do for blocks of 128 postings. No npm package does this (the
// registry has varint codecs only: protobuf-style LEB128, a branch per byte). Measured here, on
// the shared 2-core machine at a load of ≈16: unpack costs ≈15 ns a value, three plain
// typed-array additions (5 ns each in the same run); decoding is ≈20% of block-max top-k's time
// on SciFact (CPU profile). test/segment/text/block-postings.test.ts checks every width.

/** Bits needed for the largest of values[from, to): 0 when all are zero, at most 32. */
export function bitWidth(values: ArrayLike<number>, from: number, to: number): number {
  let or = 0;
  for (let i = from; i < to; i++) or |= values[i]!;
  return 32 - Math.clz32(or);
}

/** Words that `count` values of `bits` bits take. */
export function packedWords(count: number, bits: number): number {
  return Math.ceil((count * bits) / 32);
}

/** Packs values[from, to) of at most `bits` bits each into out starting at word `at`. */
export function pack(values: ArrayLike<number>, from: number, to: number, bits: number, out: Uint32Array, at: number): void {
  if (bits === 0) return;
  let word = 0;
  let used = 0;
  let w = at;
  for (let i = from; i < to; i++) {
    const v = values[i]! >>> 0;
    word |= v << used;
    used += bits;
    if (used >= 32) {
      out[w++] = word;
      used -= 32;
      // The bits of v that did not fit; a shift by 32 is a shift by 0 in JavaScript.
      word = used === 0 ? 0 : v >>> (bits - used);
    }
  }
  if (used > 0) out[w] = word;
}

/** Unpacks `count` values of `bits` bits from words[at…] into out[0, count). */
export function unpack(words: Uint32Array, at: number, count: number, bits: number, out: Uint32Array): void {
  if (bits === 0) {
    out.fill(0, 0, count);
    return;
  }
  if (bits === 32) {
    for (let i = 0; i < count; i++) out[i] = words[at + i]!;
    return;
  }
  const mask = (1 << bits) - 1;
  let bit = 0;
  for (let i = 0; i < count; i++) {
    const w = at + (bit >>> 5);
    const shift = bit & 31;
    let v = words[w]! >>> shift;
    if (shift + bits > 32) v |= words[w + 1]! << (32 - shift);
    out[i] = v & mask;
    bit += bits;
  }
}
