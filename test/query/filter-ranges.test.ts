import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, mayMatchRanges, type FieldRange, type FilterableDoc } from '../../src/query/filter/index.ts';
import { schema } from './filter-schema.ts';
import { rng as uniform } from '../support/rng.ts';


function doc(id: bigint | string, attributes: Record<string, unknown>): FilterableDoc {
  return { id, attributes };
}

type Ranges = Map<string, FieldRange>;

function may(filter: unknown, ranges: Ranges): boolean {
  return mayMatchRanges(compileFilter(filter, schema).ast, ranges);
}

const leaf = (field: string, op: string, value: unknown) => ({ field, op, value });
const stock = (min: number, max: number, hasNull = false): Ranges => new Map([['stock', { min, max, hasNull }]]);
const title = (min: string, max: string, hasNull = false): Ranges => new Map([['title', { min, max, hasNull }]]);

test('numeric comparisons prune segments whose range cannot match', () => {
  const r = stock(10, 20);
  assert.equal(may(leaf('stock', 'gt', 20), r), false);
  assert.equal(may(leaf('stock', 'gt', 19), r), true);
  assert.equal(may(leaf('stock', 'gte', 20), r), true);
  assert.equal(may(leaf('stock', 'gte', 21), r), false);
  assert.equal(may(leaf('stock', 'lt', 10), r), false);
  assert.equal(may(leaf('stock', 'lte', 10), r), true);
  assert.equal(may(leaf('stock', 'eq', 9), r), false);
  assert.equal(may(leaf('stock', 'eq', 15), r), true);
  assert.equal(may(leaf('stock', 'in', [1, 2, 30]), r), false);
  assert.equal(may(leaf('stock', 'in', [1, 12]), r), true);
});

test('missing values: eq null needs hasNull; ne and nin match missing values', () => {
  assert.equal(may(leaf('stock', 'eq', null), stock(1, 2)), false);
  assert.equal(may(leaf('stock', 'eq', null), stock(1, 2, true)), true);
  assert.equal(may(leaf('stock', 'ne', null), stock(1, 2, true)), true);
  assert.equal(may(leaf('stock', 'ne', 5), stock(5, 5)), false);
  assert.equal(may(leaf('stock', 'ne', 5), stock(5, 5, true)), true);
  assert.equal(may(leaf('stock', 'nin', [5, 6]), stock(5, 5)), false);
  assert.equal(may(leaf('stock', 'nin', [5, 6]), stock(5, 5, true)), true);
  assert.equal(may(leaf('stock', 'nin', [5, 6]), stock(5, 6)), true);
});

test('not is analysed soundly', () => {
  assert.equal(may({ not: leaf('stock', 'gt', 5) }, stock(6, 10)), false);
  assert.equal(may({ not: leaf('stock', 'gt', 5) }, stock(6, 10, true)), true);
  assert.equal(may({ not: leaf('stock', 'gt', 5) }, stock(5, 10)), true);
  assert.equal(may({ not: { not: leaf('stock', 'gt', 10) } }, stock(6, 10)), false);
  // not(contains) can never be ruled out by a range.
  assert.equal(may({ not: leaf('title', 'contains', 'x') }, title('x', 'x')), true);
});

test('and needs every branch possible; or needs one', () => {
  const r: Ranges = new Map([
    ['stock', { min: 1, max: 5, hasNull: false }],
    ['price', { min: 10, max: 20, hasNull: false }],
  ]);
  assert.equal(may({ and: [leaf('stock', 'eq', 3), leaf('price', 'gt', 25)] }, r), false);
  assert.equal(may({ or: [leaf('stock', 'eq', 3), leaf('price', 'gt', 25)] }, r), true);
  assert.equal(may({ or: [leaf('stock', 'eq', 9), leaf('price', 'gt', 25)] }, r), false);
  assert.equal(may({ type: 'not', condition: { type: 'or', conditions: [leaf('stock', 'gte', 1), leaf('price', 'eq', 0)] } }, r), false);
});

test('strings: order by code units, prefix-based glob pruning, substring never prunes', () => {
  const r = title('apple', 'banana');
  assert.equal(may(leaf('title', 'gt', 'banana'), r), false);
  assert.equal(may(leaf('title', 'lt', 'apple'), r), false);
  assert.equal(may(leaf('title', 'lt', 'Zebra'), r), false); // 'Z' < 'a'
  assert.equal(may(leaf('title', 'glob', 'c*'), r), false);
  assert.equal(may(leaf('title', 'glob', 'ap*'), r), true);
  assert.equal(may(leaf('title', 'glob', 'ban*'), r), true);
  assert.equal(may(leaf('title', 'glob', 'apricot'), r), true);
  assert.equal(may(leaf('title', 'glob', 'app'), r), false); // 'app' < 'apple'
  assert.equal(may(leaf('title', 'glob', 'aa*'), r), false);
  assert.equal(may(leaf('title', 'glob', 'bananas'), r), false); // literal: like eq
  assert.equal(may(leaf('title', 'glob', '*z'), r), true);
  assert.equal(may(leaf('title', 'contains', 'zzz'), r), true);
  assert.equal(may(leaf('title', 'glob', 'ap*'), title('apricot', 'apz')), true);
  assert.equal(may(leaf('title', 'glob', 'ap*'), title('aq', 'b')), false);
});

test('array attributes use element ranges for contains and containsany', () => {
  const r: Ranges = new Map([['sizes', { min: 3, max: 9, hasNull: true }]]);
  assert.equal(may(leaf('sizes', 'contains', 2), r), false);
  assert.equal(may(leaf('sizes', 'contains', 4), r), true);
  assert.equal(may(leaf('sizes', 'containsany', [1, 2, 10]), r), false);
  assert.equal(may(leaf('sizes', 'containsany', [1, 9]), r), true);
  assert.equal(may({ not: leaf('sizes', 'contains', 2) }, r), true);
});

test('unknown, mistyped and unusable ranges never prune', () => {
  assert.equal(may(leaf('stock', 'gt', 100), new Map()), true);
  assert.equal(may(leaf('stock', 'gt', 100), title('a', 'b')), true);
  assert.equal(may(leaf('stock', 'gt', 100), new Map([['stock', { min: 'a', max: 'b', hasNull: false }]])), true);
  assert.equal(may(leaf('stock', 'gt', 100), new Map([['stock', { min: Number.NaN, max: 1, hasNull: false }]])), true);
  assert.equal(may(leaf('title', 'eq', 'x'), new Map([['title', { min: 1, max: 2, hasNull: false }]])), true);
  assert.equal(may(leaf('active', 'eq', true), new Map([['active', { min: 0, max: 0, hasNull: false }]])), true);
  assert.equal(may(leaf('id', 'eq', 5), new Map([['id', { min: 1, max: 2, hasNull: false }]])), true);
});

// --- Randomized property: whenever some document matches, its segment is never pruned. ---

/** Integers in [0, n), from the shared deterministic generator. */
function rng(seed: number): (n: number) => number {
  const next = uniform(seed);
  return (n) => Math.floor(next() * n);
}

const STRINGS = ['', 'a', 'ab', 'abc', 'b', 'ba', 'B', 'c', 'ca', 'é'];
const FLOATS = [0, 0.5, 1, 2.5, 3, 7.25, 9];
const GLOBS = ['a*', 'b?', '*a', '[ab]*', 'ab', '?', '*', 'c*', 'B*', '[!a]*', 'ab*c', ''];
const SUBSTRINGS = ['', 'a', 'b', 'bc', 'é'];
const IDS: (bigint | string)[] = [1n, 2n, 3n, 18446744073709551615n, 'x', 'y'];

function makeDocs(random: (n: number) => number): FilterableDoc[] {
  const pickOrMissing = <T>(make: () => T): T | null | undefined => {
    const roll = random(10);
    return roll < 2 ? undefined : roll < 3 ? null : make();
  };
  const pick = <T>(list: readonly T[]): T => list[random(list.length)] as T;
  return Array.from({ length: 1 + random(6) }, () => {
    const attributes: Record<string, unknown> = {};
    const set = (name: string, value: unknown): void => {
      if (value !== undefined) attributes[name] = value;
    };
    set('stock', pickOrMissing(() => random(10)));
    set('price', pickOrMissing(() => pick(FLOATS)));
    set('title', pickOrMissing(() => pick(STRINGS)));
    set('active', pickOrMissing(() => random(2) === 0));
    set('tags', pickOrMissing(() => Array.from({ length: random(3) }, () => pick(STRINGS))));
    set('sizes', pickOrMissing(() => Array.from({ length: random(3) }, () => random(10))));
    return doc(pick(IDS), attributes);
  });
}

function makeFilter(random: (n: number) => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[random(list.length)] as T;
  const roll = random(10);
  if (depth < 4 && roll < 2) {
    const children = Array.from({ length: 1 + random(3) }, () => makeFilter(random, depth + 1));
    return random(2) === 0 ? { and: children } : { type: 'or', conditions: children };
  }
  if (depth < 4 && roll < 3) return { not: makeFilter(random, depth + 1) };
  const listOf = <T>(make: () => T): T[] => Array.from({ length: random(4) }, make);
  const scalarOps = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'];
  const scalar = (field: string, make: () => unknown, extraOps: string[] = []) => {
    const op = pick([...scalarOps, ...extraOps]);
    if (op === 'in' || op === 'nin') return leaf(field, op, listOf(make));
    if ((op === 'eq' || op === 'ne') && random(5) === 0) return leaf(field, op, null);
    if (op === 'contains') return leaf(field, op, pick(SUBSTRINGS));
    if (op === 'glob') return leaf(field, op, pick(GLOBS));
    return leaf(field, op, make());
  };
  switch (random(7)) {
    case 0:
      return scalar('stock', () => random(12) - 1);
    case 1:
      return scalar('price', () => pick(FLOATS) + pick([0, 0.25]));
    case 2:
      return scalar('title', () => pick(STRINGS), ['contains', 'glob', 'glob']);
    case 3: {
      const op = pick(['eq', 'ne', 'in', 'nin']);
      return op === 'eq' || op === 'ne' ? leaf('active', op, random(2) === 0) : leaf('active', op, listOf(() => random(2) === 0));
    }
    case 4:
      return random(2) === 0 ? leaf('tags', 'contains', pick(STRINGS)) : leaf('tags', 'containsany', listOf(() => pick(STRINGS)));
    case 5:
      return random(2) === 0 ? leaf('sizes', 'contains', random(12)) : leaf('sizes', 'containsany', listOf(() => random(12)));
    default: {
      const op = pick(['eq', 'ne', 'in', 'nin']);
      const id = () => { const v = pick(IDS); return typeof v === 'bigint' ? v.toString() : v; };
      return op === 'eq' || op === 'ne' ? leaf('id', op, id()) : leaf('id', op, listOf(id));
    }
  }
}

/** Per-field min/max over the segment's documents, as a segment writer would record them. */
function rangesOf(docs: FilterableDoc[]): Ranges {
  const ranges: Ranges = new Map();
  for (const field of ['stock', 'price', 'title', 'tags', 'sizes']) {
    const values: (number | string)[] = [];
    let hasNull = false;
    for (const d of docs) {
      const value = d.attributes[field];
      if (value === undefined || value === null) hasNull = true;
      else if (Array.isArray(value)) values.push(...(value as (number | string)[]));
      else values.push(value as number | string);
    }
    if (values.length === 0) continue; // nothing known about an all-missing column
    const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    ranges.set(field, { min: sorted[0] as number | string, max: sorted[sorted.length - 1] as number | string, hasNull });
  }
  ranges.set('active', { min: 0, max: 1, hasNull: false }); // booleans are ignored
  return ranges;
}

test('property: mayMatchRanges is never false for a segment holding a match', () => {
  const random = rng(20240601);
  let noMatch = 0;
  let pruned = 0;
  for (let round = 0; round < 20_000; round++) {
    const docs = makeDocs(random);
    const filterJson = makeFilter(random, 1);
    const filter = compileFilter(filterJson, schema);
    const anyMatch = docs.some((d) => filter.match(d));
    const verdict = mayMatchRanges(filter.ast, rangesOf(docs));
    if (anyMatch) {
      assert.equal(verdict, true, `round ${round}: pruned a segment with a match\nfilter ${JSON.stringify(filterJson)}\ndocs ${JSON.stringify(docs, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    } else {
      noMatch++;
      if (!verdict) pruned++;
    }
  }
  // The analysis must also be useful: a good share of segments without a match get pruned.
  assert.ok(pruned > noMatch * 0.2, `pruned only ${pruned} of ${noMatch} segments without a match`);
});
