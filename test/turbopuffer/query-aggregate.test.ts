// aggregate_by through turbopuffer's client: Count, Count of an attribute and Sum over every
// document the filters match (not only top_k), and per group with group_by.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { deleteIds, seed, type SiltDoc } from '../support/turbopuffer-data.ts';

let server: TurbopufferServer;
type A = { color: string; size?: number; price: number };
const attrs: A[] = Array.from({ length: 120 }, (_, i) => ({ color: ['red', 'blue', 'green'][i % 3]!, price: (i % 10) + 0.5, ...(i % 4 ? { size: i % 5 } : {}) }));
const docs: SiltDoc[] = attrs.map((a, i) => ({ id: i, vector: [1, i], attributes: a }));
const deleted = [0, 1, 2, 99];
const live = attrs.flatMap((a, i) => (deleted.includes(i) ? [] : [a]));

before(async () => {
  server = await turbopufferServer();
  await seed(server, 'agg', { vector_dim: 2, attributes: { color: 'string', size: 'integer', price: 'float' } }, docs, 70);
  await deleteIds(server, 'agg', deleted);
});
after(() => server.close());

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

test('Count, Count of an attribute and Sum over all matching documents', async () => {
  const res = await server.client.namespace('agg').query({
    aggregate_by: { n: ['Count'], with_size: ['Count', 'size'], ids: ['Count', 'id'], total: ['Sum', 'price'] }, top_k: 5,
  });
  assert.deepEqual(res.aggregations, {
    n: live.length, with_size: live.filter((a) => a.size !== undefined).length, ids: live.length, total: sum(live.map((a) => a.price)),
  });
  assert.equal(res.rows, undefined);
});

test('filters apply to aggregations', async () => {
  const res = await server.client.namespace('agg').query({ aggregate_by: { n: ['Count'], total: ['Sum', 'size'] }, filters: ['color', 'Eq', 'red'] });
  const red = live.filter((a) => a.color === 'red');
  assert.deepEqual(res.aggregations, { n: red.length, total: sum(red.map((a) => a.size ?? 0)) });
});

test('group_by gives one result per group, in key order, limited by top_k', async () => {
  const ns = server.client.namespace('agg');
  const res = await ns.query({ aggregate_by: { n: ['Count'], total: ['Sum', 'price'] }, group_by: ['color'], top_k: 10 });
  const expected = ['blue', 'green', 'red'].map((color) => {
    const g = live.filter((a) => a.color === color);
    return { color, n: g.length, total: sum(g.map((a) => a.price)) };
  });
  assert.deepEqual(res.aggregation_groups, expected);
  const two = await ns.query({ aggregate_by: { n: ['Count'] }, group_by: ['color', 'size'], top_k: 2 });
  assert.deepEqual(two.aggregation_groups, [
    { color: 'blue', size: 0, n: live.filter((a) => a.color === 'blue' && a.size === 0).length },
    { color: 'blue', size: 1, n: live.filter((a) => a.color === 'blue' && a.size === 1).length },
  ]);
});

test('Sum of a string attribute is refused', async () => {
  await assert.rejects(server.client.namespace('agg').query({ aggregate_by: { s: ['Sum', 'color'] } }), (e: { status?: number }) => e.status === 400);
});
