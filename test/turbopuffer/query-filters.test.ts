// Every turbopuffer filter operator through the client, checked against a model of what
// turbopuffer documents: the ids a query returns equal the documents the model selects, over a
// segment and the unindexed tail together.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';

let server: TurbopufferServer;
const texts = [
  'Walruses are large marine mammals',
  'The walrus hauls itself onto the ice',
  'Marine biologists study seals',
  'Large seals and small walruses',
  'Ice melts in the arctic summer',
];
type Attrs = { name?: string; n?: number; f?: number; tags?: string[]; nums?: number[]; flag?: boolean; text?: string };
const attrs: Attrs[] = Array.from({ length: 40 }, (_, i) => {
  const a: Attrs = { name: ['Alpha', 'beta', 'gamma', 'ALPHABET', 'delta'][i % 5]! + (i % 3 ? '' : '-x'), f: i / 4, flag: i % 2 === 0, text: texts[i % 5]! };
  if (i % 7 !== 0) a.n = i % 10;
  if (i % 4 !== 0) a.tags = [['red', 'green'], ['blue'], ['red', 'blue', 'white']][i % 3]!;
  if (i % 5 !== 0) a.nums = [i % 6, (i * 3) % 11];
  return a;
});
const docs: SiltDoc[] = attrs.map((a, i) => ({ id: i, vector: [1, i], attributes: a }));

before(async () => {
  server = await turbopufferServer();
  await seed(server, 'filters', {
    vector_dim: 2,
    attributes: {
      name: 'string', n: 'integer', f: 'float', tags: 'array<string>', nums: 'array<integer>', flag: 'boolean',
      text: { type: 'string', full_text: { language: 'english', stemming: true, remove_stopwords: true } },
    },
  }, docs, 20);
});
after(() => server.close());

async function ids(filters: unknown): Promise<number[]> {
  const res = await server.client.namespace('filters').query({ rank_by: ['id', 'asc'], top_k: 1000, filters } as never);
  return res.rows!.map((r) => r.id as number);
}
const model = (keep: (a: Attrs, id: number) => boolean) => attrs.flatMap((a, i) => (keep(a, i) ? [i] : []));

const cases: Array<[string, unknown, (a: Attrs, id: number) => boolean]> = [
  ['Eq', ['n', 'Eq', 3], (a) => a.n === 3],
  ['Eq null', ['n', 'Eq', null], (a) => a.n === undefined],
  ['NotEq', ['n', 'NotEq', 3], (a) => a.n !== 3],
  ['NotEq null', ['tags', 'NotEq', null], (a) => a.tags !== undefined],
  ['In', ['name', 'In', ['beta', 'delta']], (a) => a.name === 'beta' || a.name === 'delta'],
  ['NotIn', ['n', 'NotIn', [1, 2]], (a) => a.n !== 1 && a.n !== 2],
  ['Lt', ['f', 'Lt', 2.5], (a) => a.f! < 2.5],
  ['Lte', ['n', 'Lte', 4], (a) => a.n !== undefined && a.n <= 4],
  ['Gt', ['name', 'Gt', 'beta'], (a) => a.name! > 'beta'],
  ['Gte', ['f', 'Gte', 7], (a) => a.f! >= 7],
  ['AnyLt', ['nums', 'AnyLt', 2], (a) => (a.nums ?? []).some((x) => x < 2)],
  ['AnyLte', ['nums', 'AnyLte', 2], (a) => (a.nums ?? []).some((x) => x <= 2)],
  ['AnyGt', ['nums', 'AnyGt', 9], (a) => (a.nums ?? []).some((x) => x > 9)],
  ['AnyGte', ['tags', 'AnyGte', 'red'], (a) => (a.tags ?? []).some((x) => x >= 'red')],
  ['Contains', ['tags', 'Contains', 'white'], (a) => (a.tags ?? []).includes('white')],
  ['NotContains', ['tags', 'NotContains', 'red'], (a) => !(a.tags ?? []).includes('red')],
  ['ContainsAny', ['nums', 'ContainsAny', [0, 10]], (a) => (a.nums ?? []).some((x) => x === 0 || x === 10)],
  ['NotContainsAny', ['tags', 'NotContainsAny', ['blue', 'green']], (a) => !(a.tags ?? []).some((x) => x === 'blue' || x === 'green')],
  ['Glob', ['name', 'Glob', 'ALPHA*'], (a) => a.name!.startsWith('ALPHA')],
  ['NotGlob', ['name', 'NotGlob', '*-x'], (a) => !a.name!.endsWith('-x')],
  ['IGlob', ['name', 'IGlob', 'alpha*'], (a) => a.name!.toLowerCase().startsWith('alpha')],
  ['NotIGlob', ['name', 'NotIGlob', 'ALPHA*'], (a) => !a.name!.toLowerCase().startsWith('alpha')],
  ['Regex', ['name', 'Regex', '^(beta|gamma)-x$'], (a) => /^(beta|gamma)-x$/.test(a.name!)],
  // The attribute's analyzer (English, stemmed, stop words removed) on both sides.
  ['ContainsAllTokens', ['text', 'ContainsAllTokens', 'walruses large'], (_a, i) => [0, 3].includes(i % 5)],
  ['ContainsAllTokens prefix', ['text', 'ContainsAllTokens', 'marine bio', { last_as_prefix: true }], (_a, i) => i % 5 === 2],
  ['ContainsAnyToken', ['text', 'ContainsAnyToken', 'seal arctic'], (_a, i) => [2, 3, 4].includes(i % 5)],
  ['ContainsTokenSequence', ['text', 'ContainsTokenSequence', 'marine mammal'], (_a, i) => i % 5 === 0],
  ['ContainsTokenSequence out of order', ['text', 'ContainsTokenSequence', 'mammals marine'], () => false],
  ['id Lt', ['id', 'Lt', 5], (_a, i) => i < 5],
  ['id Gte', ['id', 'Gte', 35], (_a, i) => i >= 35],
  ['id In', ['id', 'In', [3, 30, 99]], (_a, i) => i === 3 || i === 30],
  ['And', ['And', [['flag', 'Eq', true], ['n', 'Gt', 5]]], (a) => a.flag === true && a.n !== undefined && a.n > 5],
  ['Or', ['Or', [['n', 'Eq', null], ['tags', 'Contains', 'blue']]], (a) => a.n === undefined || (a.tags ?? []).includes('blue')],
  ['Not', ['Not', ['And', [['id', 'Gt', 10], ['flag', 'Eq', false]]]], (a, i) => !(i > 10 && a.flag === false)],
];

for (const [name, filter, keep] of cases) {
  test(`${name} selects what turbopuffer documents`, async () => {
    assert.deepEqual(await ids(filter), model(keep));
  });
}

test('bad filters are 400s naming the place to fix', async () => {
  const refused = async (filters: unknown, pattern: RegExp) => {
    await assert.rejects(ids(filters), (e: { status?: number; message?: string }) => e.status === 400 && pattern.test(e.message ?? ''));
  };
  await refused(['name', 'Regex', '(unclosed'], /filters\[2\].*invalid pattern/);
  await refused(['name', 'ContainsAllTokens', 'x'], /'name' is not a full-text attribute/);
  await refused(['n', 'AnyLt', 3], /compare the elements of an array/);
  await refused(['name', 'Fuzzy', 'x'], /unknown operator .*Fuzzy/);
});
