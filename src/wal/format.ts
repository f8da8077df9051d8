// The WAL entry format: one object per group commit.
//
//   offset  size  field
//   0       4     magic "SWAL"
//   4       2     format version (1)
//   6       2     flags (0)
//   8       8     entry seq (u64)
//   16      8     created at, ms since epoch (u64)
//   24      4     op count (u32)
//   28      4     payload length (u32)
//   32      n     payload: ops, back to back
//   32+n    4     CRC-32 of bytes [0, 32+n)
//
// An op is: u8 kind (1 upsert, 2 delete), the id (u8 0 + u64, or u8 1 + u16 length + UTF-8),
// then for upserts: u32 vector length (0 = none) + float32s, u32 length + attributes as JSON.
// All integers little-endian. Vectors stay binary; attributes are small and schemaless enough
// that JSON is the honest format for them.
import { crc32 } from 'node:zlib';
import { unicodeProblem } from '../schema/limits.ts';
import { toNameRecord } from '../schema/records.ts';
import type { DocId, Document } from '../schema/types.ts';

export const WAL_MAGIC = 0x4c415753; // "SWAL" read as little-endian u32
export const WAL_VERSION = 1;
const HEADER = 32;
const FOOTER = 4;

export type WalOp = { kind: 'upsert'; doc: Document } | { kind: 'delete'; id: DocId };

export interface WalEntry {
  seq: number;
  createdAt: number;
  ops: WalOp[];
}

export class WalFormatError extends Error {}

function idSize(id: DocId): number {
  return typeof id === 'bigint' ? 1 + 8 : 1 + 2 + Buffer.byteLength(id, 'utf8');
}

export function encodeWalEntry(entry: WalEntry): Buffer {
  const attrJson: (Buffer | null)[] = [];
  let payload = 0;
  for (const op of entry.ops) {
    if (op.kind === 'delete') {
      payload += 1 + idSize(op.id);
      attrJson.push(null);
    } else {
      const json = Buffer.from(JSON.stringify(op.doc.attributes), 'utf8');
      attrJson.push(json);
      payload += 1 + idSize(op.doc.id) + 4 + (op.doc.vector?.length ?? 0) * 4 + 4 + json.length;
    }
  }
  const buf = Buffer.allocUnsafe(HEADER + payload + FOOTER);
  buf.writeUInt32LE(WAL_MAGIC, 0);
  buf.writeUInt16LE(WAL_VERSION, 4);
  buf.writeUInt16LE(0, 6);
  buf.writeBigUInt64LE(BigInt(entry.seq), 8);
  buf.writeBigUInt64LE(BigInt(entry.createdAt), 16);
  buf.writeUInt32LE(entry.ops.length, 24);
  buf.writeUInt32LE(payload, 28);
  let o = HEADER;
  const writeId = (id: DocId) => {
    if (typeof id === 'bigint') {
      buf.writeUInt8(0, o);
      buf.writeBigUInt64LE(id, o + 1);
      o += 9;
    } else {
      // UTF-8 would replace a lone surrogate with U+FFFD and merge distinct ids on replay.
      const problem = unicodeProblem(id);
      if (problem !== null) throw new WalFormatError(`id ${JSON.stringify(id)}: ${problem}`);
      buf.writeUInt8(1, o);
      const n = buf.write(id, o + 3, 'utf8');
      buf.writeUInt16LE(n, o + 1);
      o += 3 + n;
    }
  };
  entry.ops.forEach((op, i) => {
    if (op.kind === 'delete') {
      buf.writeUInt8(2, o++);
      writeId(op.id);
      return;
    }
    buf.writeUInt8(1, o++);
    writeId(op.doc.id);
    const v = op.doc.vector;
    buf.writeUInt32LE(v?.length ?? 0, o);
    o += 4;
    if (v) {
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, o);
      o += v.byteLength;
    }
    const json = attrJson[i]!;
    buf.writeUInt32LE(json.length, o);
    json.copy(buf, o + 4);
    o += 4 + json.length;
  });
  buf.writeUInt32LE(crc32(buf.subarray(0, o)), o);
  return buf;
}

export function decodeWalEntry(buf: Buffer): WalEntry {
  if (buf.length < HEADER + FOOTER) throw new WalFormatError(`truncated: ${buf.length} bytes`);
  if (buf.readUInt32LE(0) !== WAL_MAGIC) throw new WalFormatError('bad magic');
  const version = buf.readUInt16LE(4);
  if (version !== WAL_VERSION) throw new WalFormatError(`unsupported format version ${version}`);
  const payload = buf.readUInt32LE(28);
  if (buf.length !== HEADER + payload + FOOTER) {
    throw new WalFormatError(`length ${buf.length} does not match header (${HEADER + payload + FOOTER})`);
  }
  const stored = buf.readUInt32LE(HEADER + payload);
  const actual = crc32(buf.subarray(0, HEADER + payload));
  if (stored !== actual) throw new WalFormatError(`CRC mismatch (stored ${stored}, computed ${actual})`);
  const seq = Number(buf.readBigUInt64LE(8));
  const createdAt = Number(buf.readBigUInt64LE(16));
  const count = buf.readUInt32LE(24);
  const ops: WalOp[] = [];
  let o = HEADER;
  const readId = (): DocId => {
    const kind = buf.readUInt8(o);
    if (kind === 0) {
      const id = buf.readBigUInt64LE(o + 1);
      o += 9;
      return id;
    }
    const n = buf.readUInt16LE(o + 1);
    const id = buf.toString('utf8', o + 3, o + 3 + n);
    o += 3 + n;
    return id;
  };
  for (let i = 0; i < count; i++) {
    const kind = buf.readUInt8(o++);
    if (kind === 2) {
      ops.push({ kind: 'delete', id: readId() });
      continue;
    }
    if (kind !== 1) throw new WalFormatError(`unknown op kind ${kind} at byte ${o - 1}`);
    const id = readId();
    const dim = buf.readUInt32LE(o);
    o += 4;
    let vector: Float32Array | null = null;
    if (dim > 0) {
      vector = new Float32Array(dim);
      Buffer.from(vector.buffer).set(buf.subarray(o, o + dim * 4));
      o += dim * 4;
    }
    const len = buf.readUInt32LE(o);
    // Null prototype, as parseDocument builds them: "constructor" must not resolve to a function.
    const attributes = toNameRecord(JSON.parse(buf.toString('utf8', o + 4, o + 4 + len)) as Document['attributes']);
    o += 4 + len;
    ops.push({ kind: 'upsert', doc: { id, vector, attributes } });
  }
  if (o !== HEADER + payload) throw new WalFormatError(`payload length mismatch (${o - HEADER} of ${payload})`);
  return { seq, createdAt, ops };
}
