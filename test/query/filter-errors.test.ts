import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, FilterError } from '../../src/query/filter/index.ts';
import { schema } from './filter-schema.ts';


/** Asserts the filter is rejected at `path` with a message containing every fragment. */
function rejects(filter: unknown, path: string, ...fragments: string[]): FilterError {
  try {
    compileFilter(filter, schema);
  } catch (error) {
    assert.ok(error instanceof FilterError, `expected a FilterError, got ${String(error)}`);
    assert.equal(error.path, path, error.message);
    assert.ok(error.message.startsWith(`${path}: `), error.message);
    for (const fragment of fragments) {
      assert.ok(error.message.includes(fragment), `'${error.message}' lacks '${fragment}'`);
    }
    return error;
  }
  assert.fail(`filter ${JSON.stringify(filter)} was accepted`);
}

const leaf = (field: string, op: unknown, value: unknown) => ({ field, op, value });

test('the message says what is wrong, where, and what to do', () => {
  const error = rejects({ and: [leaf('price', 'gte', 'ten')] }, 'filter.and[0].value');
  assert.equal(error.message, `filter.and[0].value: attribute 'price' is float; value "ten" is not a number`);
  assert.equal(error.name, 'FilterError');
  assert.ok(error instanceof Error);
});

test('a custom path names the request field the filter came from', () => {
  assert.throws(() => compileFilter({ and: [] }, schema, 'filters'), { path: 'filters.and' });
});

test('malformed structure', () => {
  rejects('price > 3', 'filter', 'expected a filter object', '"price > 3"');
  rejects(null, 'filter', 'got null');
  rejects([leaf('stock', 'eq', 1)], 'filter', 'expected a filter object');
  rejects({}, 'filter', 'not a filter', 'an empty object');
  rejects({ where: 1 }, 'filter', 'not a filter', 'keys where');
  rejects({ and: [leaf('stock', 'eq', 1)], or: [] }, 'filter', `both 'and' and 'or'`);
  rejects({ and: [leaf('stock', 'eq', 1)], limit: 3 }, 'filter.limit', `unexpected key 'limit'`);
  rejects({ and: leaf('stock', 'eq', 1) }, 'filter.and', `'and' takes a list of filters`);
  rejects({ or: [leaf('stock', 'eq', 1), 5] }, 'filter.or[1]', 'expected a filter object', 'got 5');
  rejects({ not: [leaf('stock', 'eq', 1)] }, 'filter.not', 'expected a filter object');
  rejects({ field: 'stock', op: 'eq', values: [1] }, 'filter.values', `unexpected key 'values'`, 'field, op, value');
  rejects({ op: 'eq', value: 1 }, 'filter', `missing 'field'`);
  rejects({ field: 'stock', value: 1 }, 'filter', `missing 'op'`);
  rejects({ field: 'stock', op: 'eq' }, 'filter', `missing 'value'`, '"value": null');
  rejects({ field: 7, op: 'eq', value: 1 }, 'filter.field', `'field' must be an attribute name`);
  rejects({ field: '', op: 'eq', value: 1 }, 'filter.field', `'field' must be an attribute name`);
});

test('empty and/or lists', () => {
  rejects({ and: [] }, 'filter.and', `empty 'and'`, 'leave the filter out');
  rejects({ or: [leaf('stock', 'eq', 1), { or: [] }] }, 'filter.or[1].or', `empty 'or'`);
  rejects({ type: 'and', conditions: [] }, 'filter.conditions', `empty 'and'`);
});

test('malformed Elacsym structure', () => {
  rejects({ type: 'and' }, 'filter', `needs a 'conditions' list`);
  rejects({ type: 'or', conditions: [leaf('stock', 'eq', 1)], condition: {} }, 'filter.condition', 'unexpected key');
  rejects({ type: 'not' }, 'filter', `exactly one of 'condition'`);
  rejects({ type: 'not', condition: leaf('stock', 'eq', 1), conditions: [] }, 'filter', `exactly one of 'condition'`);
  rejects({ type: 'not', conditions: [leaf('stock', 'eq', 1), leaf('stock', 'eq', 2)] }, 'filter.conditions', 'negates exactly one filter', 'a list of 2 values');
  rejects({ type: 'nand', conditions: [] }, 'filter.type', `unknown filter type "nand"`, 'and, or, not');
  rejects({ type: 'And', conditions: [] }, 'filter.type', `did you mean 'and'?`);
  rejects({ type: 5 }, 'filter.type', 'unknown filter type 5');
  rejects({ type: 'eq', field: 'stock', value: 1, op: 'eq' }, 'filter.op', `unexpected key 'op'`);
  rejects({ type: 'and', conditions: [{ type: 'eq', field: 'stock', value: 'x' }] }, 'filter.conditions[0].value', 'is not a number');
});

test('unknown operators', () => {
  rejects(leaf('stock', 'between', [1, 2]), 'filter.op', `unknown operator "between"`, 'eq, ne, gt');
  rejects(leaf('stock', 'Eq', 1), 'filter.op', `did you mean 'eq'?`);
  rejects(leaf('stock', null, 1), 'filter.op', 'unknown operator null');
});

test('unknown and unfilterable attributes', () => {
  rejects({ and: [leaf('stock', 'eq', 1), leaf('pricee', 'eq', 1)] }, 'filter.and[1].field', `unknown attribute 'pricee'`, 'id, active, price');
  rejects(leaf('constructor', 'eq', 1), 'filter.field', `unknown attribute 'constructor'`);
  rejects(leaf('body', 'contains', 'x'), 'filter.field', `'body' is declared with filterable: false`);
});

test('values of the wrong type', () => {
  rejects(leaf('stock', 'eq', '5'), 'filter.value', `attribute 'stock' is integer; value "5" is not a number`);
  rejects(leaf('stock', 'gt', 1.5), 'filter.value', 'value 1.5 is not an integer');
  rejects(leaf('stock', 'lt', 2 ** 60), 'filter.value', 'outside the integer range');
  rejects(leaf('price', 'eq', true), 'filter.value', `'price' is float; value true is not a number`);
  rejects(leaf('title', 'eq', 5), 'filter.value', `'title' is string; value 5 is not a string`);
  rejects(leaf('active', 'eq', 'true'), 'filter.value', 'is not true or false');
  rejects(leaf('title', 'eq', ['a']), 'filter.value', 'is not a string');
  rejects(leaf('title', 'eq', { a: 1 }), 'filter.value', '{"a":1} is not a string');
});

test('in / nin need a list of the field type', () => {
  rejects(leaf('stock', 'in', 5), 'filter.value', `'in' takes a list of values`, `use 'eq'/'ne'`);
  rejects(leaf('stock', 'nin', [1, 'two']), 'filter.value[1]', 'value "two" is not a number');
  rejects(leaf('stock', 'in', [null]), 'filter.value[0]', 'null cannot be listed', '"op": "eq", "value": null');
  rejects(leaf('tags', 'in', ['a']), 'filter.op', `use 'containsany'`);
});

test('operators that do not apply to the field type', () => {
  rejects(leaf('tags', 'eq', 'a'), 'filter.op', `'tags' is array<string>`, `use 'contains'`, `'containsany'`);
  rejects(leaf('sizes', 'ne', null), 'filter.op', 'does not compare whole arrays');
  rejects(leaf('active', 'gt', false), 'filter.op', 'booleans have no order');
  rejects(leaf('sizes', 'lte', 3), 'filter.op', 'orders numbers and strings only');
  rejects(leaf('stock', 'gte', null), 'filter.value', 'null cannot be ordered');
  rejects(leaf('stock', 'contains', 1), 'filter.op', `'contains' works on string attributes`);
  rejects(leaf('sizes', 'contains', 'a'), 'filter.value', `'sizes' is array<integer>; value "a" is not a number`);
  rejects(leaf('title', 'containsany', ['a']), 'filter.op', `'containsany' works on array attributes only`, `'or' of 'contains'`);
  rejects(leaf('tags', 'containsany', 'a'), 'filter.value', `'containsany' takes a list`);
  rejects(leaf('tags', 'containsany', ['a', 1]), 'filter.value[1]', 'is not a string');
  rejects(leaf('tags', 'glob', 'a*'), 'filter.op', `'glob' matches string attributes only`);
  rejects(leaf('title', 'glob', 5), 'filter.value', `'glob' takes a pattern string`);
  rejects(leaf('title', 'glob', 'a[b'), 'filter.value', 'invalid glob pattern', 'never closed');
});

test('document id rules', () => {
  rejects(leaf('id', 'gt', 5), 'filter.op', 'eq, ne, in and nin only');
  rejects(leaf('id', 'glob', 'a*'), 'filter.op', 'eq, ne, in and nin only');
  rejects(leaf('id', 'eq', null), 'filter.value', 'never null');
  rejects(leaf('id', 'eq', -1), 'filter.value', 'is not an unsigned integer');
  rejects(leaf('id', 'eq', 1.5), 'filter.value', 'is not an unsigned integer');
  rejects(leaf('id', 'eq', 2 ** 60), 'filter.value', 'as digit strings');
  rejects(leaf('id', 'in', [1, '18446744073709551616']), 'filter.value[1]', 'larger than the u64 maximum');
  rejects(leaf('id', 'eq', ''), 'filter.value', 'must not be empty');
  rejects(leaf('id', 'eq', 'x'.repeat(65)), 'filter.value', 'longer than 64 bytes');
  rejects(leaf('id', 'eq', true), 'filter.value', 'id must be an unsigned integer or a string');
});

test('nesting deeper than 32 levels', () => {
  let filter: unknown = leaf('stock', 'eq', 1);
  for (let depth = 1; depth < 33; depth++) filter = { not: filter };
  const error = rejects(filter, `filter${'.not'.repeat(32)}`, 'at most 32 levels');
  assert.ok(error.message.includes(`'in' instead of a long chain of 'or'`));
  // Deeply nested hostile input fails fast instead of overflowing the stack.
  let hostile: unknown = {};
  for (let depth = 0; depth < 100_000; depth++) hostile = { and: [hostile] };
  assert.throws(() => compileFilter(hostile, schema), FilterError);
});
