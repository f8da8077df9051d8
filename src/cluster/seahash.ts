// SeaHash, bit-for-bit compatible with the Rust `seahash` crate's `seahash::hash(&[u8]) -> u64`.
// Namespace ownership is `seahash(utf8(namespace)) % nodes.length` (DESIGN.md §6), so any node —
// and any Elacsym deployment the guide describes — must agree on every bit of this function.
//
// The crate keeps four 64-bit lanes. Input is read as little-endian 64-bit words; word i is
// XORed into lane i % 4, which is then diffused. A final partial word (1..7 bytes) is read
// little-endian, zero-extended, and goes to the next lane like any other word. The result is
// diffuse(a ^ b ^ c ^ d ^ byteLength).
//
// BigInt rather than 32-bit halves: names are at most 128 bytes and ownership is computed once
// per request, so clarity wins over the speed of a hand-rolled 64-bit multiply.

const MASK64 = 0xffff_ffff_ffff_ffffn;
const MULTIPLIER = 0x6eed0e9da4d94a4fn;
const INITIAL_STATE = [
  0x16f11fe89b0d677cn,
  0xb480a793d8e6c86cn,
  0x6fe2e5aaf078ebc9n,
  0x14f994a4c5259381n,
] as const;

/** The crate's `diffuse`: a PCG-style round with a data-dependent shift. */
function diffuse(value: bigint): bigint {
  let x = (value * MULTIPLIER) & MASK64;
  x ^= (x >> 32n) >> (x >> 60n);
  return (x * MULTIPLIER) & MASK64;
}

/** Reads bytes[start, end) (at most 8) as a little-endian unsigned integer. */
function readLittleEndian(bytes: Uint8Array, start: number, end: number): bigint {
  let word = 0n;
  for (let i = end - 1; i >= start; i--) {
    word = (word << 8n) | BigInt(bytes[i] ?? 0);
  }
  return word;
}

/** `seahash::hash(bytes)` as an unsigned 64-bit bigint. */
export function seahash(bytes: Uint8Array): bigint {
  const lanes: bigint[] = [...INITIAL_STATE];
  let lane = 0;
  for (let start = 0; start < bytes.length; start += 8) {
    const word = readLittleEndian(bytes, start, Math.min(start + 8, bytes.length));
    lanes[lane] = diffuse((lanes[lane] ?? 0n) ^ word);
    lane = (lane + 1) & 3;
  }
  const [a = 0n, b = 0n, c = 0n, d = 0n] = lanes;
  return diffuse(a ^ b ^ c ^ d ^ BigInt(bytes.length));
}

const utf8 = new TextEncoder();

/** SeaHash of the UTF-8 encoding of `text`. */
export function seahashString(text: string): bigint {
  return seahash(utf8.encode(text));
}

/**
 * Index, in the ordered `indexer_cluster.nodes` list, of the node that owns `namespace`:
 * `seahash(utf8(namespace)) % nodeCount`, exactly as the Elacsym deployment guide states.
 */
export function ownerIndex(namespace: string, nodeCount: number): number {
  if (!Number.isSafeInteger(nodeCount) || nodeCount < 1) {
    throw new RangeError(`ownerIndex: nodeCount must be a positive integer, got ${nodeCount}`);
  }
  return Number(seahashString(namespace) % BigInt(nodeCount));
}
