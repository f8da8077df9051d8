// rank_by ["vector", "ANN" | "kNN", v] through turbopuffer's client: the ids and $dist values
// brute force gives (1 − cos for cosine, squared L2 for euclidean_squared), over a segment and
// the unindexed tail together, with the attributes turbopuffer returns by default (none).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { deleteIds, seed, type SiltDoc } from '../support/turbopuffer-data.ts';
import { rng } from '../support/rng.ts';

let server: TurbopufferServer;
const DIM = 8;
const random = rng(7);
const docs: SiltDoc[] = Array.from({ length: 300 }, (_, i) => ({
  id: i, vector: Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1)), attributes: { group: i % 3, name: `doc-${i}` },
}));
const deleted = new Set([5, 17, 250]);

before(async () => {
  server = await turbopufferServer();
  const schema = (metric: string) => ({ vector_dim: DIM, vector_metric: metric, attributes: { group: 'integer', name: 'string' } });
  await seed(server, 'ann-cos', schema('cosine'), docs, 200);
  await seed(server, 'ann-l2', schema('l2'), docs, 200);
  for (const ns of ['ann-cos', 'ann-l2']) await deleteIds(server, ns, [...deleted]);
});
after(() => server.close());

const f32 = (v: number[]) => Array.from(Float32Array.from(v));
function bruteForce(metric: 'cosine' | 'l2', q: number[], k: number, keep: (d: SiltDoc) => boolean = () => true) {
  const qv = f32(q);
  return docs.filter((d) => !deleted.has(d.id as number) && keep(d)).map((d) => {
    const v = f32(d.vector!);
    if (metric === 'l2') return { id: d.id, dist: v.reduce((s, x, i) => s + (x - qv[i]!) ** 2, 0) };
    const dot = v.reduce((s, x, i) => s + x * qv[i]!, 0);
    const n = Math.hypot(...v) * Math.hypot(...qv);
    return { id: d.id, dist: 1 - dot / n };
  }).sort((a, b) => a.dist - b.dist).slice(0, k);
}

const query = Array.from({ length: DIM }, (_, i) => (i % 2 ? 0.5 : -0.25));

for (const [ns, metric] of [['ann-cos', 'cosine'], ['ann-l2', 'l2']] as const) {
  test(`kNN over ${metric} returns brute force's ids and $dist`, async () => {
    const res = await server.client.namespace(ns).query({ rank_by: ['vector', 'kNN', query], top_k: 20 });
    const truth = bruteForce(metric, query, 20);
    assert.deepEqual(res.rows!.map((r) => r.id), truth.map((t) => t.id));
    res.rows!.forEach((r, i) => assert.ok(Math.abs(r.$dist! - truth[i]!.dist) < 1e-5, `row ${i}: ${r.$dist} vs ${truth[i]!.dist}`));
    // turbopuffer's default: id and $dist only.
    assert.deepEqual(Object.keys(res.rows![0]!).sort(), ['$dist', 'id']);
  });

  test(`ANN over ${metric} finds the true neighbours with exact $dist`, async () => {
    const res = await server.client.namespace(ns).query({ rank_by: ['vector', 'ANN', query], top_k: 10, include_attributes: ['name'] });
    const truth = bruteForce(metric, query, 10);
    assert.deepEqual(res.rows!.map((r) => r.id), truth.map((t) => t.id));
    res.rows!.forEach((r, i) => {
      assert.ok(Math.abs(r.$dist! - truth[i]!.dist) < 1e-5);
      assert.equal(r.name, `doc-${r.id}`);
    });
    assert.equal(res.performance.approx_namespace_size, 300 - deleted.size);
  });
}

test('a filter narrows ANN before ranking, and top_k is still filled', async () => {
  const res = await server.client.namespace('ann-cos').query({ rank_by: ['vector', 'ANN', query], top_k: 15, filters: ['group', 'Eq', 1] });
  const truth = bruteForce('cosine', query, 15, (d) => d.attributes!.group === 1);
  assert.deepEqual(res.rows!.map((r) => r.id), truth.map((t) => t.id));
});

test('include_attributes true returns every attribute and the vector; base64 encodes it as little-endian f32', async () => {
  const ns = server.client.namespace('ann-cos');
  const res = await ns.query({ rank_by: ['vector', 'kNN', query], top_k: 1, include_attributes: true });
  const row = res.rows![0]!;
  const doc = docs[row.id as number]!;
  assert.deepEqual(row.vector, f32(doc.vector!));
  assert.equal(row.group, doc.attributes!.group);
  const b64 = await ns.query({ rank_by: ['vector', 'kNN', query], top_k: 1, include_attributes: ['vector'], vector_encoding: 'base64' });
  const bytes = Buffer.from(b64.rows![0]!.vector as string, 'base64');
  assert.deepEqual(Array.from({ length: DIM }, (_, i) => bytes.readFloatLE(i * 4)), f32(doc.vector!));
  const excluded = await ns.query({ rank_by: ['vector', 'kNN', query], top_k: 1, exclude_attributes: ['vector', 'name'] });
  assert.deepEqual(Object.keys(excluded.rows![0]!).sort(), ['$dist', 'group', 'id']);
});

test('limit.per keeps at most n rows per value', async () => {
  const res = await server.client.namespace('ann-cos').query({
    rank_by: ['vector', 'ANN', query], limit: { total: 5, per: { attributes: ['group'], limit: 1 } }, include_attributes: ['group'],
  });
  assert.equal(res.rows!.length, 3);
  assert.deepEqual(res.rows!.map((r) => r.group).sort(), [0, 1, 2]);
  const truth = bruteForce('cosine', query, 300);
  const firstPerGroup = [0, 1, 2].map((g) => truth.find((t) => docs[t.id as number]!.attributes!.group === g)!.id);
  assert.deepEqual(res.rows!.map((r) => r.id).sort(), firstPerGroup.sort());
});

test('a wrong dimension, an unknown field and a missing namespace get turbopuffer errors', async () => {
  const ns = server.client.namespace('ann-cos');
  await assert.rejects(ns.query({ rank_by: ['vector', 'ANN', [1, 2]], top_k: 3 }), (e: { status?: number; message?: string }) => e.status === 400 && /dimensions/.test(e.message ?? ''));
  await assert.rejects(ns.query({ rank_by: ['vector', 'ANN', query], bogus: 1 } as never), (e: { status?: number }) => e.status === 400);
  await assert.rejects(server.client.namespace('nope').query({ rank_by: ['vector', 'ANN', query] }), (e: { status?: number }) => e.status === 404);
});
