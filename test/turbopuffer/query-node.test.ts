// A query node answers turbopuffer queries as the owner would: relayed while the owner is up,
// served from object storage through its own view when the owner is down, and from a recent view
// for consistency {level: "eventual"}; by the same code path as Silt's own /v1 reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Turbopuffer from '@turbopuffer/turbopuffer';
import { queryNode } from '../support/app.ts';
import { TPUF_KEY, turbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';

const docs: SiltDoc[] = Array.from({ length: 60 }, (_, i) => ({ id: i, vector: [Math.cos(i), Math.sin(i)], attributes: { text: i % 2 ? 'odd walrus' : 'even seal' } }));

test('turbopuffer queries through a query node, with the owner up and down', async () => {
  const owner = await turbopufferServer();
  await seed(owner, 'qn', { vector_dim: 2, attributes: { text: { type: 'string', full_text: true } } }, docs, 40);
  const front = queryNode(owner.silt, owner.baseURL, { forwardTimeoutMs: 500 });
  const frontUrl = await front.listen({ host: '127.0.0.1', port: 0 });
  const client = new Turbopuffer({ apiKey: TPUF_KEY, baseURL: frontUrl, region: null, maxRetries: 0 });
  const ns = client.namespace('qn');
  const ann = (): Parameters<typeof ns.query>[0] => ({ rank_by: ['vector', 'ANN', [1, 0.2]], top_k: 5 });
  const page = (): NonNullable<Parameters<typeof ns.query>[0]> => ({ rank_by: ['id', 'asc'], top_k: 7, filters: ['id', 'Gt', 30] });
  try {
    const relayedAnn = await ns.query(ann());
    const relayedPage = await ns.query(page());
    assert.deepEqual(relayedPage.rows!.map((r) => r.id), [31, 32, 33, 34, 35, 36, 37]);
    const eventual = await ns.query({ ...page(), consistency: { level: 'eventual' } });
    assert.equal((eventual as unknown as { served_from: string }).served_from, 'cache');
    assert.deepEqual(eventual.rows, relayedPage.rows);

    await owner.close();
    const servedAnn = await ns.query(ann());
    assert.equal((servedAnn as unknown as { served_from: string }).served_from, 'object_storage');
    assert.deepEqual(servedAnn.rows, relayedAnn.rows);
    const servedPage = await ns.query(page());
    assert.deepEqual(servedPage.rows, relayedPage.rows);
    const multi = await ns.multiQuery({ queries: [{ rank_by: ['text', 'BM25', 'walrus'], top_k: 3 }, { aggregate_by: { n: ['Count'] } }] });
    assert.equal(multi.results[0]!.rows!.length, 3);
    assert.ok(multi.results[0]!.rows!.every((r) => (r.id as number) % 2 === 1));
    assert.deepEqual(multi.results[1]!.aggregations, { n: 60 });
    const recall = await ns.recall({ num: 3, top_k: 5 });
    assert.equal(recall.avg_exhaustive_count, 5);
    // A bad query is still refused in turbopuffer's error shape.
    await assert.rejects(ns.query({ rank_by: ['nope', 'asc'] }), (e: { status?: number; message?: string }) => e.status === 400 && /no attribute/.test(e.message ?? ''));
  } finally {
    await front.close();
  }
});
