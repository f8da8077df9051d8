import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Memtable } from '../../src/namespace/memtable.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { t: { type: 'string', full_text: true } } });
const doc = (id: number, t: string) => ({ id: BigInt(id), vector: Float32Array.of(id, 1), attributes: { t } });

test('rebuilding drops dead rows and keeps live rows, tombstones and text postings', () => {
  const m = new Memtable(schema);
  let seq = 0;
  for (let i = 0; i < 12_000; i++) m.upsert(doc(i, 'old words'), ++seq);
  for (let i = 0; i < 12_000; i++) m.upsert(doc(i, i === 7 ? 'fresh apple' : 'new words'), ++seq);
  m.delete(5n, ++seq);
  assert.ok(m.shouldRebuild());
  const r = m.rebuilt();
  assert.equal(r.rowCount, 11_999);
  assert.equal(r.size, 11_999);
  assert.ok(r.isDeleted(5n));
  assert.deepEqual(r.attributes(r.rowOf(7n)!), { t: 'fresh apple' });
  assert.equal(r.textIndex('t')!.docFreq('appl'), 1);
  assert.equal(r.textIndex('t')!.docFreq('old'), 0);
  assert.ok(!r.shouldRebuild());
});

test('retainAfter keeps only writes after the watermark, rows and tombstones alike', () => {
  const m = new Memtable(schema);
  m.upsert(doc(1, 'a'), 1);
  m.upsert(doc(2, 'b'), 2);
  m.delete(3n, 2);
  m.upsert(doc(4, 'c'), 3);
  m.delete(1n, 4);
  const r = m.retainAfter(2);
  assert.equal(r.rowOf(2n), undefined);
  assert.notEqual(r.rowOf(4n), undefined);
  assert.ok(r.isDeleted(1n));
  assert.ok(!r.isDeleted(3n));
  assert.ok(r.touchedAfter(4n, 2) && r.touchedAfter(1n, 2) && !r.touchedAfter(2n, 2));
});
