import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRowSet, encodeRowSet } from '../../src/manifest/row-set.ts';
import { rng } from '../support/app.ts';

test('row sets round-trip, including large gaps and dense runs', () => {
  const r = rng(3);
  for (let t = 0; t < 50; t++) {
    const set = new Set<number>();
    const n = Math.floor(r() * 2000);
    for (let i = 0; i < n; i++) set.add(Math.floor(r() * (t % 2 ? 5000 : 2 ** 31)));
    const rows = [...set].sort((a, b) => a - b);
    assert.deepEqual(decodeRowSet(encodeRowSet(rows)), rows);
  }
  assert.deepEqual(decodeRowSet(encodeRowSet([])), []);
  assert.ok(encodeRowSet(Array.from({ length: 1000 }, (_, i) => i)).length < 1400);
  assert.throws(() => encodeRowSet([3, 3]));
});
