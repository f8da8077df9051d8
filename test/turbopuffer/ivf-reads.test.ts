// turbopuffer reads over an IVF segment, whose vectors are read by cluster on demand: kNN,
// include_vector on every kind of ranking, recall's sampled vectors and patches keep the vector.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';
import { rng } from '../support/rng.ts';

let server: TurbopufferServer;
const random = rng(7);
const docs: SiltDoc[] = Array.from({ length: 300 }, (_, i) => ({ id: i, vector: Array.from({ length: 4 }, () => random()), attributes: { n: i } }));
const near = (v: number[] | undefined, want: number[]) => v !== undefined && v.every((x, i) => Math.abs(x - want[i]!) < 1e-6);

before(async () => {
  server = await turbopufferServer({ indexing: { ivf_min_rows: 100 } });
  await seed(server, 'ivf', { vector_dim: 4, attributes: { n: 'integer' } }, docs, 300);
});
after(() => server.close());

test('kNN and ordered reads return the stored vectors of an IVF segment', async () => {
  const ns = server.client.namespace('ivf');
  const knn = await ns.query({ rank_by: ['vector', 'kNN', docs[5]!.vector!], top_k: 3, include_attributes: ['vector'] });
  assert.equal(knn.rows![0]!.id, 5);
  assert.ok(near(knn.rows![0]!.vector as number[], docs[5]!.vector!));
  const ordered = await ns.query({ rank_by: ['n', 'desc'], top_k: 2, include_attributes: ['vector'] });
  assert.deepEqual(ordered.rows!.map((r) => r.id), [299, 298]);
  assert.ok(near(ordered.rows![0]!.vector as number[], docs[299]!.vector!));
  const ann = await ns.query({ rank_by: ['vector', 'ANN', docs[7]!.vector!], top_k: 1, include_attributes: ['vector'] });
  assert.ok(near(ann.rows![0]!.vector as number[], docs[7]!.vector!));
});

test('recall samples the vectors of an IVF segment', async () => {
  const res = await server.client.namespace('ivf').recall({ num: 4, top_k: 5 });
  assert.equal(res.avg_exhaustive_count, 5);
  assert.ok(res.avg_recall > 0.5, String(res.avg_recall));
});

test('a patch of a row in an IVF segment keeps its vector', async () => {
  const ns = server.client.namespace('ivf');
  await ns.write({ patch_rows: [{ id: 9, n: 1000 }] });
  const row = await ns.query({ filters: ['id', 'Eq', 9], rank_by: ['id', 'asc'], top_k: 1, include_attributes: ['n', 'vector'] });
  assert.equal(row.rows![0]!.n, 1000);
  assert.ok(near(row.rows![0]!.vector as number[], docs[9]!.vector!));
});
