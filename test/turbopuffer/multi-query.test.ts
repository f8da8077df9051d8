// Multi-query through turbopuffer's client: several queries in one request answer as they would
// alone, and rerank_by ["RRF", …] fuses them (Σ weight / (rank_constant + rank)) into one list,
// the usual hybrid of vector and BM25 search.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';

let server: TurbopufferServer;
const words = ['walrus', 'tusk', 'ice', 'arctic', 'seal'];
const docs: SiltDoc[] = Array.from({ length: 80 }, (_, i) => ({
  id: i, vector: [Math.cos(i / 10), Math.sin(i / 10)], attributes: { text: `${words[i % 5]} ${words[(i * 3) % 5]} ${words[(i * 7) % 4]}` },
}));
const vectorQuery: ['vector', 'ANN', number[]] = ['vector', 'ANN', [1, 0.3]];
const textQuery: ['text', 'BM25', string] = ['text', 'BM25', 'walrus arctic'];

before(async () => {
  server = await turbopufferServer();
  await seed(server, 'multi', { vector_dim: 2, attributes: { text: { type: 'string', full_text: { language: 'none', stemming: false, remove_stopwords: false } } } }, docs, 40);
});
after(() => server.close());

function rrf(lists: Array<Array<{ id: unknown }>>, k: number, weights: number[], limit: number) {
  const scores = new Map<unknown, number>();
  lists.forEach((rows, q) => rows.forEach((r, i) => scores.set(r.id, (scores.get(r.id) ?? 0) + weights[q]! / (k + i + 1))));
  return [...scores].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

test('each query of a multi-query answers as it would alone', async () => {
  const ns = server.client.namespace('multi');
  const res = await ns.multiQuery({ queries: [{ rank_by: vectorQuery, top_k: 7 }, { rank_by: textQuery, top_k: 5 }, { aggregate_by: { n: ['Count'] } }] });
  const alone = await ns.query({ rank_by: vectorQuery, top_k: 7 });
  const text = await ns.query({ rank_by: textQuery, top_k: 5 });
  assert.equal(res.results.length, 3);
  assert.deepEqual(res.results[0]!.rows, alone.rows);
  assert.deepEqual(res.results[1]!.rows, text.rows);
  assert.deepEqual(res.results[2]!.aggregations, { n: 80 });
});

test('rerank_by RRF fuses the lists with rank_constant and weights', async () => {
  const ns = server.client.namespace('multi');
  const queries = [{ rank_by: vectorQuery, top_k: 20 }, { rank_by: textQuery, top_k: 20 }] as never;
  const v = await ns.query({ rank_by: vectorQuery, top_k: 20 });
  const t = await ns.query({ rank_by: textQuery, top_k: 20 });
  const fused = await ns.multiQuery({ queries, rerank_by: ['RRF', { rank_constant: 10, weights: [1, 2] }] });
  const expected = rrf([v.rows!, t.rows!], 10, [1, 2], 20);
  assert.equal(fused.results.length, 1);
  assert.deepEqual(fused.results[0]!.rows!.map((r) => r.$dist!.toFixed(9)), expected.map(([, s]) => s.toFixed(9)));
  assert.deepEqual(new Set(fused.results[0]!.rows!.map((r) => r.id)), new Set(expected.map(([id]) => id)));
  const plain = await ns.multiQuery({ queries, rerank_by: ['RRF'] });
  assert.deepEqual(plain.results[0]!.rows!.map((r) => r.$dist!.toFixed(9)), rrf([v.rows!, t.rows!], 60, [1, 1], 20).map(([, s]) => s.toFixed(9)));
});

test('more than 16 queries, or weights that do not match them, are refused', async () => {
  const ns = server.client.namespace('multi');
  const q = { rank_by: vectorQuery } as never;
  await assert.rejects(ns.multiQuery({ queries: Array.from({ length: 17 }, () => q) }), (e: { status?: number }) => e.status === 400);
  await assert.rejects(ns.multiQuery({ queries: [q, q], rerank_by: ['RRF', { weights: [1] }] }), (e: { status?: number; message?: string }) => e.status === 400 && /weights/.test(e.message ?? ''));
});
