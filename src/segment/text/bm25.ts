// BM25 exactly as Lucene 9's BM25Similarity defines it, with Lucene's lossy one-byte document
// length norms (SmallFloat.intToByte4 / byte4ToInt).
//
//   idf(t)      = ln(1 + (docCount − docFreq + 0.5) / (docFreq + 0.5))
//   score(t, d) = boost · idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl))
//   avgdl       = sumTotalTermFreq / docCount          (exact, not quantized)
//   dl          = byte4ToInt(intToByte4(length of d))  (quantized: exact up to 40, then 4 bits)
//
// No (k1 + 1) factor in the numerator, as in Lucene since 8.0 (it scales every score equally;
// Elasticsearch's explain output still shows it as "boost 2.2" = k1 + 1). Lucene computes in
// float32; this module computes in float64, so scores agree with Lucene's to ~1e-6 relative.

// --- SmallFloat (org.apache.lucene.util.SmallFloat) -------------------------------------------

/** Encodes a non-negative integer in 4 bits of mantissa and 4 of exponent (values 0..15 exact). */
export function longToInt4(i: number): number {
  if (i < 0 || !Number.isInteger(i)) throw new RangeError(`longToInt4: ${i} is not a non-negative integer`);
  const numBits = bitLength(i);
  if (numBits < 4) return i; // subnormal
  const shift = numBits - 4;
  // Keep the 4 most significant bits; the top one is implicit.
  let encoded = Math.floor(i / 2 ** shift) & 0x07;
  encoded |= (shift + 1) << 3;
  return encoded;
}

function bitLength(i: number): number {
  if (i < 2 ** 32) return 32 - Math.clz32(i);
  let n = 32;
  while (2 ** n <= i) n++;
  return n;
}

export function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

const MAX_INT4 = longToInt4(2 ** 31 - 1);
/** Byte values below this encode themselves (24): small lengths are exact. */
const NUM_FREE_VALUES = 255 - MAX_INT4;

/** Lucene's document-length norm: an int (≥ 0) to one unsigned byte, rounding down. */
export function intToByte4(i: number): number {
  if (i < 0 || !Number.isInteger(i)) throw new RangeError(`intToByte4: ${i} is not a non-negative integer`);
  if (i < NUM_FREE_VALUES) return i;
  const clamped = Math.min(i, 2 ** 31 - 1);
  return NUM_FREE_VALUES + longToInt4(clamped - NUM_FREE_VALUES);
}

/** Decodes a norm byte (0..255) back to the length it stands for. */
export function byte4ToInt(b: number): number {
  const i = b & 0xff;
  if (i < NUM_FREE_VALUES) return i;
  return NUM_FREE_VALUES + int4ToLong(i - NUM_FREE_VALUES);
}

/** LENGTH_TABLE of BM25Similarity: the length each norm byte decodes to. */
export const LENGTH_TABLE: Int32Array = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) t[i] = byte4ToInt(i);
  return t;
})();

/** The length BM25 uses for a document of `length` tokens (Lucene's lossy round trip). */
export function quantizeLength(length: number): number {
  return LENGTH_TABLE[intToByte4(length)]!;
}

// --- BM25Similarity ----------------------------------------------------------------------------

export interface Bm25Params {
  k1: number;
  b: number;
  /** Query-time weight of the field or clause; 1 when absent. */
  boost?: number;
}

export const DEFAULT_K1 = 1.2;
export const DEFAULT_B = 0.75;

export function idf(docFreq: number, docCount: number): number {
  return Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
}

/** avgdl; 1 for an empty collection so that nothing divides by zero (nothing matches anyway). */
export function avgFieldLength(sumTotalTermFreq: number, docCount: number): number {
  return docCount > 0 ? sumTotalTermFreq / docCount : 1;
}

/** One term's BM25 contribution for one document; dl is the quantized length. */
export function bm25TermScore(
  tf: number, dl: number, idfValue: number, avgdl: number, params: Bm25Params,
): number {
  const { k1, b } = params;
  const boost = params.boost ?? 1;
  return (boost * idfValue * tf) / (tf + k1 * (1 - b + (b * dl) / avgdl));
}
