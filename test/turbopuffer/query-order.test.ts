// rank_by by attribute through turbopuffer's client: paging a whole namespace by id (the way
// turbopuffer users export), ascending and descending, across segments, the tail, deletions and
// overwrites; ordering by other attributes with ties broken by id; no $dist; no 1,200 ceiling.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { deleteIds, seed, type SiltDoc } from '../support/turbopuffer-data.ts';
import { rng } from '../support/rng.ts';

let server: TurbopufferServer;
const N = 3000;
const random = rng(3);
// Ids out of order and sparse, so the order comes from the ids, not from the writes.
const ids = Array.from({ length: N }, (_, i) => i * 7 + 3).sort(() => random() - 0.5);
const docs: SiltDoc[] = ids.map((id) => ({ id, vector: [random(), random()], attributes: { price: Math.floor(random() * 50), tag: random() < 0.3 ? 'a' : 'b' } }));
const deleted = new Set(ids.slice(0, 100));
const live = () => docs.filter((d) => !deleted.has(d.id as number));

before(async () => {
  server = await turbopufferServer();
  const schema = { vector_dim: 2, attributes: { price: 'integer', tag: 'string' } };
  // Two segments and a tail; deletions reach into both segments.
  await seed(server, 'order', schema, docs.slice(0, 1500), 1500);
  await seed(server, 'order', schema, docs.slice(1500), 1000);
  await deleteIds(server, 'order', [...deleted]);
});
after(() => server.close());

async function pageAll(desc: boolean, pageSize: number, extra?: unknown[]) {
  const ns = server.client.namespace('order');
  const seen: number[] = [];
  let last: number | null = null;
  for (;;) {
    const bound = last === null ? [] : [['id', desc ? 'Lt' : 'Gt', last]];
    const all = [...bound, ...(extra ? [extra] : [])];
    const filters = all.length === 0 ? undefined : all.length === 1 ? all[0] : ['And', all];
    const res = await ns.query({ rank_by: ['id', desc ? 'desc' : 'asc'], top_k: pageSize, ...(filters ? { filters } : {}) } as never);
    const rows = res.rows!;
    for (const r of rows) assert.equal(r.$dist, undefined);
    seen.push(...rows.map((r) => r.id as number));
    if (rows.length < pageSize) return seen;
    last = rows[rows.length - 1]!.id as number;
  }
}

test('paging by id ascending visits every live document once, in order', async () => {
  const expected = live().map((d) => d.id as number).sort((a, b) => a - b);
  assert.deepEqual(await pageAll(false, 250), expected);
});

test('paging by id descending, with a filter, visits exactly the matches in reverse order', async () => {
  const expected = live().filter((d) => d.attributes!.tag === 'a').map((d) => d.id as number).sort((a, b) => b - a);
  assert.deepEqual(await pageAll(true, 97, ['tag', 'Eq', 'a']), expected);
});

test('one page may exceed 1,200 rows', async () => {
  const res = await server.client.namespace('order').query({ rank_by: ['id', 'asc'], top_k: 2500 });
  assert.equal(res.rows!.length, 2500);
});

test('ordering by an attribute, then by id, and lists of keys', async () => {
  const ns = server.client.namespace('order');
  const byPrice = (dir: 1 | -1) => live().sort((a, b) => dir * ((a.attributes!.price as number) - (b.attributes!.price as number)) || (a.id as number) - (b.id as number));
  const desc = await ns.query({ rank_by: ['price', 'desc'], top_k: 40, include_attributes: ['price'] });
  assert.deepEqual(desc.rows!.map((r) => r.id), byPrice(-1).slice(0, 40).map((d) => d.id));
  const keys = await ns.query({ rank_by: [['tag', 'asc'], ['price', 'asc'], ['id', 'desc']], top_k: 30 });
  const expected = live().sort((a, b) => (a.attributes!.tag as string).localeCompare(b.attributes!.tag as string)
    || (a.attributes!.price as number) - (b.attributes!.price as number) || (b.id as number) - (a.id as number));
  assert.deepEqual(keys.rows!.map((r) => r.id), expected.slice(0, 30).map((d) => d.id));
});

test('string ids page in order too', async () => {
  const names = ['pear', 'apple', 'fig', 'kiwi', 'banana', 'cherry', 'date', 'grape'];
  await seed(server, 'order-s', { vector_dim: 2, attributes: {} }, names.map((id) => ({ id, vector: [1, 0] })), 4);
  const ns = server.client.namespace('order-s');
  const first = await ns.query({ rank_by: ['id', 'asc'], top_k: 3 });
  assert.deepEqual(first.rows!.map((r) => r.id), ['apple', 'banana', 'cherry']);
  const next = await ns.query({ rank_by: ['id', 'asc'], top_k: 10, filters: ['id', 'Gt', 'cherry'] });
  assert.deepEqual(next.rows!.map((r) => r.id), ['date', 'fig', 'grape', 'kiwi', 'pear']);
});
