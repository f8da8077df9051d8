// String column bounds are kept short (they are copied into every manifest) but stay bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeColumn } from '../../src/segment/columns.ts';
import { rng } from '../support/rng.ts';

const UNITS = ['a', 'z', '\u0000', '\ud7ff', '\ue000', '\uffff', '\u{1F600}', '\u{10FFFF}', '\u00e9'];

test('long string bounds are short, well-formed, and still below/above every value', () => {
  const r = rng(11);
  for (let round = 0; round < 200; round++) {
    const values = Array.from({ length: 1 + Math.floor(r() * 5) }, () => {
      const head = Array.from({ length: Math.floor(r() * 300) }, () => UNITS[Math.floor(r() * UNITS.length)]).join('');
      return head + UNITS[Math.floor(r() * UNITS.length)]!.repeat(Math.floor(r() * 400));
    });
    for (const type of ['string', 'array<string>'] as const) {
      const stats = encodeColumn('s', type, type === 'string' ? values : [values]).stats;
      if (stats === null) continue; // no short upper bound exists (e.g. all U+10FFFF): never skipped
      const { min, max } = stats as { min: string; max: string };
      assert.ok(min.length <= 256 && max.length <= 256, `bounds of ${min.length} and ${max.length} units`);
      assert.ok(min.isWellFormed() && max.isWellFormed());
      for (const v of values) assert.ok(min <= v && v <= max, `${JSON.stringify(v.slice(0, 20))} outside its bounds`);
    }
  }
  assert.deepEqual(encodeColumn('s', 'string', ['b', 'a']).stats, { min: 'a', max: 'b', hasNull: false });
  assert.equal(encodeColumn('s', 'string', ['\u{10FFFF}'.repeat(200)]).stats, null);
});
