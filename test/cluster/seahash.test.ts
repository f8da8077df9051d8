import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerIndex, seahash, seahashString } from '../../src/cluster/seahash.ts';

test('matches the reference vectors of the Rust seahash crate', () => {
  // The crate's own documented examples (DESIGN.md §6).
  assert.equal(seahashString('to be or not to be'), 1988685042348123509n);
  assert.equal(seahashString('love is a wonderful terrible thing'), 4784284276849692846n);
});

test('matches values other projects pinned against the crate (covers more tail lengths)', () => {
  // Empty input and two 31-byte inputs (the 24 + 7 tail path), as asserted by a Rust project
  // hashing with `seahash::SeaHasher`; [1, 2, 3, 4] as asserted by a Go port's test.
  assert.equal(seahash(new Uint8Array(0)), 14492805990617963705n);
  assert.equal(seahashString(''), 14492805990617963705n);
  assert.equal(seahashString('cse_engine_hash_mod_test_bytes1'), 16301057587465450460n);
  assert.equal(seahashString('cse_engine_hash_mod_test_bytes2'), 10270658030298139083n);
  assert.equal(seahash(new Uint8Array([1, 2, 3, 4])), 7946236997574049990n);
});

test('every length 0..40 hashes to a stable, distinct u64', () => {
  const source = new Uint8Array(41).map((_, i) => (i * 37 + 11) & 0xff);
  const seen = new Map<bigint, number>();
  for (let length = 0; length <= 40; length++) {
    const bytes = source.slice(0, length);
    const first = seahash(bytes);
    assert.equal(seahash(bytes), first, `length ${length} is not stable`);
    // A view into a larger buffer at an odd offset must hash the same as a fresh copy.
    const padded = new Uint8Array(length + 3);
    padded.set(bytes, 3);
    assert.equal(seahash(padded.subarray(3)), first, `length ${length} depends on byteOffset`);
    assert.ok(first >= 0n && first < 1n << 64n, `length ${length} is not a u64`);
    assert.equal(seen.get(first), undefined, `length ${length} collides with length ${seen.get(first)}`);
    seen.set(first, length);
  }
  // Trailing zero bytes change the length, so they must change the hash.
  assert.notEqual(seahash(new Uint8Array([1])), seahash(new Uint8Array([1, 0])));
});

test('seahashString hashes the UTF-8 bytes', () => {
  const text = 'naïve-名前-🦀';
  assert.equal(seahashString(text), seahash(new TextEncoder().encode(text)));
  assert.notEqual(seahashString('é'), seahash(new Uint8Array([0xe9])));
});

test('ownerIndex spreads 3000 namespaces over 3 nodes within ±15%', () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const index = ownerIndex(`tenant-${i}.docs`, 3);
    assert.ok(Number.isInteger(index) && index >= 0 && index < 3);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  for (const count of counts) {
    assert.ok(count >= 850 && count <= 1150, `uneven distribution: ${counts.join(', ')}`);
  }
});

test('ownerIndex is the hash modulo the node count', () => {
  assert.equal(ownerIndex('to be or not to be', 1), 0);
  assert.equal(ownerIndex('to be or not to be', 7), Number(1988685042348123509n % 7n));
  assert.equal(ownerIndex('to be or not to be', 3), ownerIndex('to be or not to be', 3));
  assert.throws(() => ownerIndex('docs', 0), RangeError);
  assert.throws(() => ownerIndex('docs', 1.5), RangeError);
});
