// POST /v1/namespaces/:ns/_debug/recall through turbopuffer's client: ANN against exhaustive
// search on sampled stored vectors, and the last figure per namespace as silt_ann_recall in /metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';
import { rng } from '../support/rng.ts';

let server: TurbopufferServer;
const random = rng(11);
const docs: SiltDoc[] = Array.from({ length: 400 }, (_, i) => ({ id: i, vector: Array.from({ length: 6 }, () => random()), attributes: { even: i % 2 === 0 } }));

before(async () => {
  server = await turbopufferServer();
  const schema = { vector_dim: 6, attributes: { even: 'boolean' } };
  await seed(server, 'recall-seg', schema, docs, 300);
  // Only the tail: searched exhaustively, so ANN is exact.
  await seed(server, 'recall-tail', schema, docs, 0);
});
after(() => server.close());

test('recall with just num and top_k, as the console calls it', async () => {
  const res = await server.client.namespace('recall-tail').recall({ num: 8, top_k: 10 });
  assert.deepEqual(res, { avg_recall: 1, avg_ann_count: 10, avg_exhaustive_count: 10 });
});

test('over segments, recall is measured and the counts follow filters', async () => {
  const ns = server.client.namespace('recall-seg');
  const res = await ns.recall({ num: 10, top_k: 5 });
  assert.ok(res.avg_recall > 0.8 && res.avg_recall <= 1, String(res.avg_recall));
  assert.equal(res.avg_exhaustive_count, 5);
  const filtered = await ns.recall({ num: 5, top_k: 300, filters: ['even', 'Eq', true] });
  assert.equal(filtered.avg_exhaustive_count, 200);
  assert.ok(filtered.avg_ann_count <= 200);
});

test('rank_by measures one given query; ground truth lists the true neighbours', async () => {
  const q = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  const res = await server.client.namespace('recall-tail').recall({ rank_by: ['vector', 'ANN', q], top_k: 3, include_ground_truth: true });
  assert.equal(res.avg_recall, 1);
  const knn = await server.client.namespace('recall-tail').query({ rank_by: ['vector', 'kNN', q], top_k: 3 });
  assert.deepEqual(res.ground_truth![0]!.nearest_neighbors.map((r) => r.id), knn.rows!.map((r) => r.id));
  await assert.rejects(server.client.namespace('recall-tail').recall({ rank_by: ['vector', 'ANN', q], num: 3 }), (e: { status?: number }) => e.status === 400);
});

test('the last recall per namespace is the gauge silt_ann_recall', async () => {
  const res = await server.client.namespace('recall-seg').recall({ num: 4, top_k: 10 });
  await server.client.namespace('recall-tail').recall({ num: 2, top_k: 10 });
  const text = await (await fetch(new URL('/metrics', server.baseURL))).text();
  const value = (ns: string) => Number(new RegExp(`^silt_ann_recall\\{namespace="${ns}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('recall-seg'), res.avg_recall);
  assert.equal(value('recall-tail'), 1);
});
