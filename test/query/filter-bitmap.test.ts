// The vectorized evaluation must agree with the per-document predicate on every row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, filterBitmap } from '../../src/query/filter/index.ts';
import { schema } from './filter-schema.ts';
import { rng } from '../support/app.ts';

test('filterBitmap equals the compiled predicate for random filters and documents', () => {
  const r = rng(77);
  const n = 300;
  const docs = Array.from({ length: n }, (_, i) => {
    const attributes: Record<string, unknown> = {};
    if (r() < 0.8) attributes.price = Math.round(r() * 20) / 2;
    if (r() < 0.8) attributes.stock = Math.floor(r() * 10);
    if (r() < 0.8) attributes.title = ['a', 'b', 'c'][i % 3];
    return { id: BigInt(i), attributes };
  });
  const column = (name: string) => {
    const values = new Float64Array(n);
    const present = new Uint8Array(Math.ceil(n / 8));
    docs.forEach((d, row) => {
      const v = d.attributes[name];
      if (typeof v === 'number') {
        values[row] = v;
        present[row >>> 3]! |= 1 << (row & 7);
      }
    });
    return { values, present };
  };
  const leaf = () => {
    const field = ['price', 'stock', 'title'][Math.floor(r() * 3)]!;
    if (field === 'title') return { field, op: 'eq', value: 'b' };
    const op = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'][Math.floor(r() * 8)]!;
    const num = () => (field === 'stock' ? Math.floor(r() * 10) : Math.round(r() * 20) / 2);
    if (op === 'in' || op === 'nin') return { field, op, value: [num(), num()] };
    if ((op === 'eq' || op === 'ne') && r() < 0.2) return { field, op, value: null };
    return { field, op, value: num() };
  };
  const tree = (depth: number): unknown => {
    if (depth === 0 || r() < 0.4) return leaf();
    const kind = ['and', 'or', 'not'][Math.floor(r() * 3)]!;
    if (kind === 'not') return { not: tree(depth - 1) };
    return { [kind]: [tree(depth - 1), tree(depth - 1)] };
  };
  for (let t = 0; t < 300; t++) {
    const json = tree(3);
    const f = compileFilter(json, schema);
    const bits = filterBitmap(f.ast, { rows: n, numericColumn: (name) => (name === 'title' ? null : column(name)), doc: (row) => docs[row]! });
    docs.forEach((d, row) => assert.equal(bits[row] === 1, f.match(d), `${JSON.stringify(json)} on ${JSON.stringify(d.attributes)}`));
  }
});
