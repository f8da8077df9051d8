// The ids section in its three forms: ids of both kinds; u64 ids only (compact, with the sorted
// permutation); u64 ids only in row order (compact, without it). Each answers id(row), rowOf(id),
// id order and positionAfter alike, and a u64-only section in the first form (every segment
// written before the compact forms) still reads.
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

test('u64-only sections are compact: 12 bytes a row, 8 in id order, against 17 before; the first form still reads', () => {
  const inOrder = Array.from({ length: 1000 }, (_, i) => BigInt(i));
  const reversed = [...inOrder].reverse();
  assert.equal(encodeIds(inOrder).byteLength, 8 + 8 * 1000);
  assert.equal(encodeIds(reversed).byteLength, 8 + 12 * 1000);
  const old = firstForm(reversed);
  assert.ok(old.byteLength >= 8 + 17 * 1000, `${old.byteLength} bytes`);
  check('first form', reversed, new IdColumn(old));
  check('first form in order', inOrder, new IdColumn(firstForm(inOrder)));
});
