// The ids section in its forms: ids of both kinds; u64 ids only (compact, with the sorted
// permutation); u64 ids only in row order (compact, without it); each compact form bit-packed
// (what is written now) or raw (written before). Each answers id(row), rowOf(id), id order and
// positionAfter alike, and u64-only sections in the first form and the raw compact forms (every
// segment written before) still read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIds, IdColumn } from '../../src/segment/ids.ts';
import { SectionWriter } from '../../src/segment/binary.ts';
import type { DocId } from '../../src/schema/types.ts';
import { rng } from '../support/app.ts';

/** The first form of an all-u64 section, as encodeIds wrote it before the compact forms. */
function firstForm(ids: readonly bigint[]): Buffer {
  const rows = ids.length;
  const sorted = Uint32Array.from(ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0)));
  const w = new SectionWriter(rows * 21 + 64);
  w.u32(rows);
  w.u32(rows);
  w.array(new Uint8Array(rows));
  w.array(BigUint64Array.from(ids));
  w.array(new Uint32Array(rows + 1));
  w.array(sorted);
  return w.finish();
}

/** The raw compact forms, as encodeIds wrote them before the packed ones. */
function rawCompact(ids: readonly bigint[]): Buffer {
  const rows = ids.length;
  const sorted = Uint32Array.from(ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0)));
  const inOrder = sorted.every((row, i) => row === i);
  const w = new SectionWriter(rows * 12 + 16);
  w.u32(rows);
  w.u32((0x8000_0000 | (inOrder ? 0x4000_0000 : 0)) >>> 0);
  w.array(BigUint64Array.from(ids));
  if (!inOrder) w.array(sorted);
  return w.finish();
}

const idOrder = (ids: readonly DocId[]) => ids.map((id, row) => ({ id, row })).sort((a, b) => {
  if (typeof a.id !== typeof b.id) return typeof a.id === 'bigint' ? -1 : 1;
  if (typeof a.id === 'bigint') return a.id < (b.id as bigint) ? -1 : 1;
  return Buffer.compare(Buffer.from(a.id), Buffer.from(b.id as string));
}).map((x) => x.row);

function check(name: string, ids: readonly DocId[], column: IdColumn): void {
  assert.equal(column.rows, ids.length, name);
  ids.forEach((id, row) => {
    assert.equal(column.id(row), id, `${name}: id of row ${row}`);
    assert.equal(column.rowOf(id), row, `${name}: row of ${String(id)}`);
  });
  for (const absent of [123_456_789n, (1n << 64n) - 2n, 'absent', '']) {
    if (!ids.includes(absent)) assert.equal(column.rowOf(absent), undefined, `${name}: ${String(absent)}`);
  }
  const order = idOrder(ids);
  assert.deepEqual(Array.from({ length: ids.length }, (_, i) => column.rowInIdOrder(i)), order, `${name}: id order`);
  order.forEach((row, i) => {
    assert.equal(column.positionAfter(ids[row]!, true), i, `${name}: position of ${String(ids[row])}`);
    assert.equal(column.positionAfter(ids[row]!, false), i + 1, `${name}: position after ${String(ids[row])}`);
  });
}

test('ids of both kinds, u64 ids out of order and in order: each form answers the same', () => {
  const random = rng(5);
  const shuffled = Array.from({ length: 500 }, (_, i) => BigInt(i * 7 + 3)).sort(() => random() - 0.5);
  shuffled.push((1n << 64n) - 1n, 0n);
  const inOrder = Array.from({ length: 500 }, (_, i) => BigInt(i) * 1_000_003n);
  const mixed: DocId[] = [...shuffled.slice(0, 200), 'b', 'a', 'é', 'z'.repeat(40), ''];
  for (const [name, ids] of [['mixed', mixed], ['u64 out of order', shuffled], ['u64 in order', inOrder], ['one', [42n]], ['empty', []]] as const) {
    check(name, ids, new IdColumn(encodeIds(ids)));
  }
});

test('u64-only sections are packed: a few bits a row for ids in sequence, raw width for random ones; the older forms still read', () => {
  const inOrder = Array.from({ length: 1000 }, (_, i) => BigInt(i));
  const reversed = [...inOrder].reverse();
  // 8 blocks of 128 positions: 12 bytes each for consecutive ids, plus 8 and the packed steps of the permutation.
  assert.equal(encodeIds(inOrder).byteLength, 8 + 8 * 12);
  assert.ok(encodeIds(reversed).byteLength <= 8 + 8 * 12 + 8 * 40, `${encodeIds(reversed).byteLength} bytes`);
  const random = rng(11);
  const wide = Array.from({ length: 1000 }, () => (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)));
  const wideBytes = encodeIds([...new Set(wide)]).byteLength;
  assert.ok(wideBytes <= 8 + 1000 * (8 + 2) + 8 * 20, `random u64 ids: ${wideBytes} bytes`);
  for (const [name, ids] of [['reversed', reversed], ['in order', inOrder], ['random u64', [...new Set(wide)]]] as const) {
    check(`raw compact, ${name}`, ids, new IdColumn(rawCompact(ids)));
  }
  const old = firstForm(reversed);
  assert.ok(old.byteLength >= 8 + 17 * 1000, `${old.byteLength} bytes`);
  check('first form', reversed, new IdColumn(old));
  check('first form in order', inOrder, new IdColumn(firstForm(inOrder)));
});

test('packed ids round-trip at block edges, across 2^32 carries, with gaps of 2^32 and more, and near 2^64', () => {
  const random = rng(17);
  const shuffle = <T>(xs: T[]) => xs.map((x) => ({ x, k: random() })).sort((a, b) => a.k - b.k).map((e) => e.x);
  const top = (1n << 64n) - 1n;
  const cases: Array<[string, bigint[]]> = [
    ['129 in sequence', Array.from({ length: 129 }, (_, i) => BigInt(i) + 7n)],
    ['across 2^32', Array.from({ length: 300 }, (_, i) => (1n << 32n) - 150n + BigInt(i))],
    ['gaps ≥ 2^32', Array.from({ length: 260 }, (_, i) => BigInt(i) * ((1n << 32n) + 3n))],
    ['mixed gaps', Array.from({ length: 400 }, (_, i) => (i % 128 === 5 ? 1n << 40n : 0n) + BigInt(i) * 3n).sort((a, b) => (a < b ? -1 : 1))],
    ['up to 2^64 − 1', Array.from({ length: 200 }, (_, i) => top - BigInt(i))],
    ['nearly in order', Array.from({ length: 1000 }, (_, i) => BigInt(i + (i % 10 === 0 ? 5 : 0) * 1000))],
    ['128', Array.from({ length: 128 }, (_, i) => BigInt(i * i))],
  ];
  for (const [name, ids] of cases) {
    check(`${name}, in order`, ids, new IdColumn(encodeIds(ids)));
    const shuffled = shuffle([...ids]);
    check(`${name}, shuffled`, shuffled, new IdColumn(encodeIds(shuffled)));
  }
});
