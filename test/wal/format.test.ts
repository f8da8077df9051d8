import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWalEntry, encodeWalEntry, WalFormatError, type WalEntry } from '../../src/wal/format.ts';
import { walKey, walSeqOfKey } from '../../src/storage/layout.ts';

const entry: WalEntry = {
  seq: 42,
  createdAt: 1_700_000_000_000,
  ops: [
    { kind: 'upsert', doc: { id: 18446744073709551615n, vector: new Float32Array([0.5, -1.25, 3]), attributes: { title: 'héllo', n: 3, tags: ['a', 'b'] } } },
    { kind: 'upsert', doc: { id: 'doc-ü', vector: null, attributes: {} } },
    { kind: 'delete', id: 7n },
    { kind: 'delete', id: 'gone' },
  ],
};

test('a WAL entry round-trips exactly, u64 ids beyond 2^53 included', () => {
  const decoded = decodeWalEntry(encodeWalEntry(entry));
  assert.equal(decoded.seq, 42);
  assert.equal(decoded.createdAt, entry.createdAt);
  // Attributes decode into null-prototype records (schema/records.ts); compare their contents.
  const plain = decoded.ops.map((op) => (op.kind === 'upsert' ? { ...op, doc: { ...op.doc, attributes: { ...op.doc.attributes } } } : op));
  assert.deepEqual(plain, entry.ops);
  for (const op of decoded.ops) if (op.kind === 'upsert') assert.equal(Object.getPrototypeOf(op.doc.attributes), null);
});

test('every flipped byte is detected, never decoded into other data', () => {
  const buf = encodeWalEntry(entry);
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i] = bad[i]! ^ 0x5a;
    assert.throws(() => decodeWalEntry(bad), WalFormatError, `byte ${i}`);
  }
});

test('truncated objects are rejected', () => {
  const buf = encodeWalEntry(entry);
  for (const n of [0, 10, 31, buf.length - 1]) {
    assert.throws(() => decodeWalEntry(buf.subarray(0, n)), WalFormatError);
  }
});

test('WAL keys sort by seq and parse back', () => {
  assert.equal(walKey('ns', 7), 'ns/wal/00000000000000000007.wal');
  assert.equal(walSeqOfKey(walKey('a.b', 123456)), 123456);
  assert.ok(walKey('ns', 9) < walKey('ns', 10));
  assert.equal(walSeqOfKey('ns/manifest/current'), null);
});
