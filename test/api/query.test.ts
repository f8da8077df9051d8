import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng, testApp } from '../support/app.ts';

const DIM = 8;
const N = 600;
const WORDS = ['ocean', 'river', 'mountain', 'forest', 'desert', 'city', 'storm', 'light', 'stone', 'glass'];

function corpus(seed: number) {
  const r = rng(seed);
  return Array.from({ length: N }, (_, i) => ({
    id: i,
    vector: Array.from({ length: DIM }, () => r() * 2 - 1),
    attributes: {
      title: Array.from({ length: 3 + Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '),
      category: ['a', 'b', 'c'][i % 3]!,
      rank: i,
    },
  }));
}

function bruteForce(docs: ReturnType<typeof corpus>, q: number[], metric: string, k: number, keep = (_: (typeof docs)[number]) => true) {
  const dist = (v: number[]) => {
    if (metric === 'l2') return Math.sqrt(v.reduce((s, x, i) => s + (x - q[i]!) ** 2, 0));
    const dot = v.reduce((s, x, i) => s + x * q[i]!, 0);
    if (metric === 'dot') return -dot;
    const nv = Math.hypot(...v);
    const nq = Math.hypot(...q);
    return 1 - dot / (nv * nq);
  };
  return docs.filter(keep)
    .map((d) => ({ id: d.id, d: dist(d.vector) }))
    .sort((a, b) => a.d - b.d || a.id - b.id)
    .slice(0, k);
}

for (const metric of ['cosine', 'l2', 'dot'] as const) {
  test(`vector results equal exact brute force (${metric})`, async () => {
    const { call } = testApp();
    const docs = corpus(7);
    await call('PUT', '/v1/namespaces/v', { vector_dim: DIM, vector_metric: metric, attributes: { title: { type: 'string', full_text: true }, category: { type: 'string' }, rank: { type: 'integer' } } });
    for (let i = 0; i < N; i += 200) {
      assert.equal((await call('POST', '/v1/namespaces/v/upsert', { documents: docs.slice(i, i + 200) })).status, 200);
    }
    const r = rng(99);
    for (let t = 0; t < 10; t++) {
      const q = Array.from({ length: DIM }, () => r() * 2 - 1);
      const res = await call('POST', '/v1/namespaces/v/query', { vector: q, top_k: 15 });
      assert.equal(res.status, 200);
      const expected = bruteForce(docs, q, metric, 15);
      assert.deepEqual(res.body.results.map((h: { id: number }) => h.id), expected.map((e) => e.id));
      res.body.results.forEach((h: { distance: number; score: number }, i: number) => {
        assert.ok(Math.abs(h.distance - expected[i]!.d) < 1e-4);
      });
      // Filtered: exact over the matching rows, refilled to top_k.
      const filtered = await call('POST', '/v1/namespaces/v/query', {
        vector: q, top_k: 15, filter: { and: [{ field: 'category', op: 'eq', value: 'b' }, { field: 'rank', op: 'lt', value: 300 }] },
      });
      const expectedFiltered = bruteForce(docs, q, metric, 15, (d) => d.attributes.category === 'b' && d.attributes.rank < 300);
      assert.deepEqual(filtered.body.results.map((h: { id: number }) => h.id), expectedFiltered.map((e) => e.id));
    }
  });
}

test('full-text, hybrid, include_* and query validation', async () => {
  const { call } = testApp({ maxTopK: 50 });
  await call('PUT', '/v1/namespaces/t', {
    vector_dim: 2, vector_metric: 'cosine',
    attributes: { title: { type: 'string', full_text: true }, body: { type: 'string', full_text: true }, n: { type: 'integer' } },
  });
  await call('POST', '/v1/namespaces/t/upsert', {
    documents: [
      { id: 1, vector: [1, 0], attributes: { title: 'Running shoes for trail runners', body: 'light and fast', n: 1 } },
      { id: 2, vector: [0, 1], attributes: { title: 'A guide to the ocean', body: 'the ocean runs deep', n: 2 } },
      { id: 3, vector: [0.7, 0.7], attributes: { title: 'Ocean running by the ocean', body: 'beach runs at dawn', n: 3 } },
      { id: 4, vector: [-1, 0], attributes: { title: 'Mountain bikes', body: 'steep', n: 4 } },
    ],
  });
  const text = await call('POST', '/v1/namespaces/t/query', { full_text: { field: 'title', query: 'run' } });
  assert.equal(text.status, 200);
  // Stemming: "Running", "runners", "running" all match "run".
  assert.deepEqual(text.body.results.map((h: { id: number }) => h.id).sort(), [1, 3]);
  assert.ok(text.body.results.every((h: { bm25: number; score: number }) => h.bm25 > 0 && h.score === h.bm25));
  assert.ok(typeof text.body.took_ms === 'number');

  const multi = await call('POST', '/v1/namespaces/t/query', {
    full_text: { fields: ['title', 'body'], query: 'ocean', weights: { title: 2, body: 1 } }, include_attributes: ['n'],
  });
  assert.deepEqual(multi.body.results[0].attributes, { n: 2 });

  const hybrid = await call('POST', '/v1/namespaces/t/query', {
    vector: [1, 0], full_text: { field: 'title', query: 'ocean' }, top_k: 3, include_vector: true,
  });
  assert.equal(hybrid.status, 200);
  const h3 = hybrid.body.results.find((h: { id: number }) => h.id === 3);
  assert.ok(h3.distance !== undefined && h3.bm25 !== undefined, 'hybrid hit reports both components');
  assert.equal(hybrid.body.results[0].id, 3); // ranked well by both
  assert.ok(Math.abs(h3.score - (1 / 62 + 1 / 61)) < 1e-9 || Math.abs(h3.score - (1 / 61 + 1 / 62)) < 1e-9);
  assert.equal(h3.vector.length, 2);

  const errors: Array<[unknown, string, RegExp]> = [
    [{ top_k: 3 }, 'SILT_ERR_QUERY_INVALID', /at least one of "vector" or "full_text"/],
    [{ vector: [1, 0], top_k: 51 }, 'SILT_ERR_QUERY_TOP_K', /top_k 51 exceeds the maximum of 50/],
    [{ vector: [1, 0, 0] }, 'SILT_ERR_DOCUMENT_VECTOR_DIMENSION', /vector has 3 dimensions; namespace 't' expects 2/],
    [{ full_text: { field: 'n', query: 'x' } }, 'SILT_ERR_QUERY_INVALID', /'n' is not a full-text attribute/],
    [{ vector: [1, 0], filter: { field: 'nope', op: 'eq', value: 1 } }, 'SILT_ERR_FILTER_INVALID', /nope/],
    [{ vector: [1, 0], topk: 3 }, 'SILT_ERR_QUERY_INVALID', /topk: unknown field/],
  ];
  for (const [body, code, message] of errors) {
    const res = await call('POST', '/v1/namespaces/t/query', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.code, code);
    assert.match(res.body.error.message, message);
  }
});

test('Elacsym filter syntax is accepted', async () => {
  const { call } = testApp();
  await call('PUT', '/v1/namespaces/f', { vector_dim: 2, attributes: { category: { type: 'string' }, n: { type: 'integer' } } });
  await call('POST', '/v1/namespaces/f/upsert', {
    documents: [1, 2, 3, 4].map((i) => ({ id: i, vector: [1, i], attributes: { category: i % 2 ? 'odd' : 'even', n: i } })),
  });
  const res = await call('POST', '/v1/namespaces/f/query', {
    vector: [1, 1],
    filter: { type: 'and', conditions: [{ field: 'category', op: 'eq', value: 'even' }, { field: 'n', op: 'gt', value: 2 }] },
  });
  assert.deepEqual(res.body.results.map((h: { id: number }) => h.id), [4]);
});
