// turbopuffer's filter syntax means what turbopuffer's docs say, checked against the same
// documents through Silt's filter compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError } from '../../src/query/filter/index.ts';
import { compileNode } from '../../src/query/filter/compile.ts';
import { parseTurbopufferFilter } from '../../src/turbopuffer/filters.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';

const schema: NamespaceSchema = {
  vector_dim: 2, vector_metric: 'cosine',
  attributes: {
    color: { type: 'string', full_text: null, filterable: true },
    size: { type: 'integer', full_text: null, filterable: true },
    tags: { type: 'array<string>', full_text: null, filterable: true },
  },
};
const docs = [
  { id: 1n, attributes: { color: 'red', size: 3, tags: ['a', 'b'] } },
  { id: 2n, attributes: { color: 'blue', size: 5, tags: ['b'] } },
  { id: 3n, attributes: { color: 'reddish', tags: [] } },
];

function ids(filter: unknown, refNew?: Record<string, unknown>): number[] {
  const match = compileNode(parseTurbopufferFilter(filter, schema, 'filters', refNew ? { refNew } : {}));
  return docs.filter((d) => match(d as never)).map((d) => Number(d.id));
}

test('leaves, negations and combinators select what turbopuffer documents', () => {
  assert.deepEqual(ids(['color', 'Eq', 'red']), [1]);
  assert.deepEqual(ids(['color', 'NotEq', 'red']), [2, 3]);
  assert.deepEqual(ids(['size', 'Eq', null]), [3]);
  assert.deepEqual(ids(['size', 'Gte', 4]), [2]);
  assert.deepEqual(ids(['color', 'In', ['red', 'blue']]), [1, 2]);
  assert.deepEqual(ids(['color', 'NotGlob', 'red*']), [2]);
  assert.deepEqual(ids(['tags', 'Contains', 'a']), [1]);
  assert.deepEqual(ids(['tags', 'NotContainsAny', ['a', 'b']]), [3]);
  assert.deepEqual(ids(['Or', [['size', 'Lt', 4], ['Not', ['tags', 'Contains', 'b']]]]), [1, 3]);
  assert.deepEqual(ids(['And', [['id', 'In', [1, 2]], ['color', 'Glob', '*e*']]]), [1, 2]);
});

test('Contains on a string attribute is refused, not read as a substring test', () => {
  assert.throws(() => ids(['color', 'Contains', 'red']), (e: unknown) => e instanceof FilterError && /elements of an array/.test(e.message));
});

test('$ref_new takes the value of the row being written, and only in a condition', () => {
  assert.deepEqual(ids(['size', 'Lt', { $ref_new: 'size' }], { size: 4 }), [1]);
  assert.deepEqual(ids(['size', 'Lt', { $ref_new: 'size' }], {}), []);
  assert.throws(() => ids(['size', 'Lt', { $ref_new: 'size' }]), /only in upsert_condition/);
});

test('malformed filters name the place to fix', () => {
  assert.throws(() => ids(['color', 'Equals', 'red']), /filters\[1\].*unknown operator/);
  assert.throws(() => ids(['And', [['nope', 'Eq', 1]]]), /filters\[1\]\[0\]\[0\].*unknown attribute 'nope'/);
  assert.throws(() => ids({ color: 'red' }), /filters.*expected a filter/);
});
