import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, type FilterableDoc } from '../../src/query/filter/index.ts';
import { schema } from './filter-schema.ts';


function doc(id: bigint | string, attributes: Record<string, unknown>): FilterableDoc {
  return { id, attributes };
}

const docs: FilterableDoc[] = [
  doc(1n, { title: 'apple pie', price: 4.5, stock: 10, active: true, tags: ['food', 'sweet'], sizes: [1, 2] }),
  doc(2n, { title: 'Banana', price: 1, stock: 0, active: false, tags: ['food'], sizes: [3] }),
  doc(3n, { title: 'cherry', price: 12.25, stock: 7, active: true, tags: [], sizes: [] }),
  doc('sku-4', { title: null, price: null, stock: null, active: null, tags: null, sizes: null }),
  doc(5n, {}),
];

/** Ids of the documents the filter matches, in order, as strings. */
function ids(filter: unknown, pool: FilterableDoc[] = docs): string[] {
  const compiled = compileFilter(filter, schema);
  return pool.filter((d) => compiled.match(d)).map((d) => String(d.id));
}

const leaf = (field: string, op: string, value: unknown) => ({ field, op, value });

describe('eq / ne', () => {
  test('strings compare exactly (case-sensitive)', () => {
    assert.deepEqual(ids(leaf('title', 'eq', 'Banana')), ['2']);
    assert.deepEqual(ids(leaf('title', 'eq', 'banana')), []);
    assert.deepEqual(ids(leaf('title', 'ne', 'Banana')), ['1', '3', 'sku-4', '5']);
  });
  test('integers and floats compare by value; an integer value matches a float attribute', () => {
    assert.deepEqual(ids(leaf('stock', 'eq', 0)), ['2']);
    assert.deepEqual(ids(leaf('price', 'eq', 1)), ['2']);
    assert.deepEqual(ids(leaf('price', 'eq', 4.5)), ['1']);
    assert.deepEqual(ids(leaf('price', 'ne', 4.5)), ['2', '3', 'sku-4', '5']);
  });
  test('booleans', () => {
    assert.deepEqual(ids(leaf('active', 'eq', true)), ['1', '3']);
    assert.deepEqual(ids(leaf('active', 'eq', false)), ['2']);
    assert.deepEqual(ids(leaf('active', 'ne', true)), ['2', 'sku-4', '5']);
  });
  test('eq null matches missing and null; ne null the opposite', () => {
    assert.deepEqual(ids(leaf('stock', 'eq', null)), ['sku-4', '5']);
    assert.deepEqual(ids(leaf('stock', 'ne', null)), ['1', '2', '3']);
    assert.deepEqual(ids(leaf('title', 'eq', null)), ['sku-4', '5']);
    assert.deepEqual(ids(leaf('active', 'ne', null)), ['1', '2', '3']);
  });
});

describe('gt / gte / lt / lte', () => {
  test('numbers; missing values never match', () => {
    assert.deepEqual(ids(leaf('price', 'gt', 4.5)), ['3']);
    assert.deepEqual(ids(leaf('price', 'gte', 4.5)), ['1', '3']);
    assert.deepEqual(ids(leaf('price', 'lt', 4.5)), ['2']);
    assert.deepEqual(ids(leaf('price', 'lte', 4.5)), ['1', '2']);
    assert.deepEqual(ids(leaf('stock', 'gt', -1)), ['1', '2', '3']);
    assert.deepEqual(ids(leaf('stock', 'lte', 7)), ['2', '3']);
  });
  test('strings order by UTF-16 code units: uppercase sorts before lowercase', () => {
    assert.deepEqual(ids(leaf('title', 'lt', 'b')), ['1', '2']);
    assert.deepEqual(ids(leaf('title', 'gte', 'b')), ['3']);
    assert.deepEqual(ids(leaf('title', 'gt', 'apple pie')), ['3']);
    assert.deepEqual(ids(leaf('title', 'lte', 'apple pie')), ['1', '2']);
    // '\uffff' (one code unit) sorts after '😀' (a surrogate pair starting 0xD83D).
    const pool = [doc(1n, { title: '😀' }), doc(2n, { title: '\uffff' })];
    assert.deepEqual(ids(leaf('title', 'gt', '😀'), pool), ['2']);
  });
});

describe('in / nin', () => {
  test('scalars; nin matches missing values (IS DISTINCT FROM)', () => {
    assert.deepEqual(ids(leaf('stock', 'in', [0, 7, 99])), ['2', '3']);
    assert.deepEqual(ids(leaf('stock', 'nin', [0, 7])), ['1', 'sku-4', '5']);
    assert.deepEqual(ids(leaf('title', 'in', ['cherry', 'Banana'])), ['2', '3']);
    assert.deepEqual(ids(leaf('active', 'in', [false])), ['2']);
    assert.deepEqual(ids(leaf('price', 'in', [1, 12.25])), ['2', '3']);
  });
  test('an empty list: in matches nothing, nin matches everything', () => {
    assert.deepEqual(ids(leaf('stock', 'in', [])), []);
    assert.deepEqual(ids(leaf('stock', 'nin', [])), ['1', '2', '3', 'sku-4', '5']);
  });
});

describe('contains / containsany', () => {
  test('contains on array attributes tests membership', () => {
    assert.deepEqual(ids(leaf('tags', 'contains', 'food')), ['1', '2']);
    assert.deepEqual(ids(leaf('tags', 'contains', 'foo')), []);
    assert.deepEqual(ids(leaf('sizes', 'contains', 3)), ['2']);
  });
  test('contains on string attributes tests for a substring (case-sensitive)', () => {
    assert.deepEqual(ids(leaf('title', 'contains', 'an')), ['2']);
    assert.deepEqual(ids(leaf('title', 'contains', 'pie')), ['1']);
    assert.deepEqual(ids(leaf('title', 'contains', 'BAN')), []);
    assert.deepEqual(ids(leaf('title', 'contains', '')), ['1', '2', '3']);
  });
  test('containsany matches arrays sharing any element', () => {
    assert.deepEqual(ids(leaf('tags', 'containsany', ['sweet', 'sour'])), ['1']);
    assert.deepEqual(ids(leaf('tags', 'containsany', ['food', 'x'])), ['1', '2']);
    assert.deepEqual(ids(leaf('sizes', 'containsany', [2, 3])), ['1', '2']);
    assert.deepEqual(ids(leaf('sizes', 'containsany', [])), []);
  });
  test('negated contains matches empty and missing arrays', () => {
    assert.deepEqual(ids({ not: leaf('tags', 'contains', 'food') }), ['3', 'sku-4', '5']);
  });
});

describe('glob', () => {
  test('anchored full match on string attributes; missing never matches', () => {
    assert.deepEqual(ids(leaf('title', 'glob', '*an*')), ['2']);
    assert.deepEqual(ids(leaf('title', 'glob', '[a-c]*')), ['1', '3']);
    assert.deepEqual(ids(leaf('title', 'glob', 'cherr?')), ['3']);
    assert.deepEqual(ids(leaf('title', 'glob', 'cherr')), []);
    assert.deepEqual(ids(leaf('title', 'glob', '*')), ['1', '2', '3']);
    assert.deepEqual(ids({ not: leaf('title', 'glob', '[!B]*') }), ['2', 'sku-4', '5']);
  });
});

describe('document ids', () => {
  const pool = [
    doc(7n, {}),
    doc(18446744073709551615n, {}),
    doc(9007199254740993n, {}),
    doc('sku-1', {}),
    doc(12n, {}),
  ];
  test('numbers and digit strings are u64 ids; other strings are string ids', () => {
    assert.deepEqual(ids(leaf('id', 'eq', 7), pool), ['7']);
    assert.deepEqual(ids(leaf('id', 'eq', '7'), pool), ['7']);
    assert.deepEqual(ids(leaf('id', 'eq', 'sku-1'), pool), ['sku-1']);
    assert.deepEqual(ids(leaf('id', 'ne', 7), pool), ['18446744073709551615', '9007199254740993', 'sku-1', '12']);
  });
  test('u64 ids beyond 2^53 in in/nin, given as digit strings', () => {
    const big = ['18446744073709551615', '9007199254740993', 'sku-1'];
    assert.deepEqual(ids(leaf('id', 'in', big), pool), ['18446744073709551615', '9007199254740993', 'sku-1']);
    // 2^53 + 1 is not 2^53: no rounding anywhere.
    assert.deepEqual(ids(leaf('id', 'in', ['9007199254740992']), pool), []);
    assert.deepEqual(ids(leaf('id', 'nin', [...big, 12]), pool), ['7']);
  });
  test('fields lists the id', () => {
    assert.deepEqual([...compileFilter(leaf('id', 'eq', 1), schema).fields], ['id']);
  });
});

describe('combinators and syntaxes', () => {
  const native = {
    and: [
      leaf('price', 'gte', 1),
      { or: [leaf('tags', 'contains', 'sweet'), leaf('stock', 'eq', 0)] },
      { not: leaf('title', 'eq', 'cherry') },
    ],
  };
  const elacsym = {
    type: 'and',
    conditions: [
      { type: 'gte', field: 'price', value: 1 },
      { type: 'or', conditions: [{ type: 'contains', field: 'tags', value: 'sweet' }, { type: 'eq', field: 'stock', value: 0 }] },
      { type: 'not', condition: { type: 'eq', field: 'title', value: 'cherry' } },
    ],
  };
  test('native and Elacsym syntaxes mean the same', () => {
    assert.deepEqual(ids(native), ['1', '2']);
    assert.deepEqual(ids(elacsym), ['1', '2']);
    assert.deepEqual(compileFilter(elacsym, schema).ast, compileFilter(native, schema).ast);
  });
  test('the syntaxes nest inside each other, and native leaves work under Elacsym combinators', () => {
    const mixed = {
      type: 'and',
      conditions: [
        leaf('price', 'gte', 1),
        { or: [{ type: 'contains', field: 'tags', value: 'sweet' }, leaf('stock', 'eq', 0)] },
        { type: 'not', conditions: [{ not: { not: leaf('title', 'eq', 'cherry') } }] },
      ],
    };
    assert.deepEqual(ids(mixed), ['1', '2']);
  });
  test('not inverts, including over missing values', () => {
    assert.deepEqual(ids({ not: leaf('stock', 'gt', 5) }), ['2', 'sku-4', '5']);
    assert.deepEqual(ids({ not: { not: leaf('stock', 'gt', 5) } }), ['1', '3']);
  });
  test('single-element lists and deep nesting up to 32 levels', () => {
    assert.deepEqual(ids({ and: [leaf('stock', 'eq', 7)] }), ['3']);
    let deep: unknown = leaf('stock', 'eq', 7);
    for (let depth = 1; depth < 32; depth++) deep = depth % 2 === 0 ? { and: [deep] } : { or: [deep] };
    assert.deepEqual(ids(deep), ['3']);
  });
  test('fields collects every attribute read', () => {
    assert.deepEqual([...compileFilter(native, schema).fields].sort(), ['price', 'stock', 'tags', 'title']);
  });
  test('the AST is typed and normalized', () => {
    assert.deepEqual(compileFilter({ not: leaf('id', 'in', [1, '2', 'x']) }, schema).ast, {
      kind: 'not',
      child: { kind: 'leaf', op: 'in', field: 'id', fieldType: 'id', value: [1n, 2n, 'x'] },
    });
  });
});
