import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng, testApp } from '../support/app.ts';

const WORDS = ['salt', 'pepper', 'cumin', 'basil', 'thyme', 'sage', 'mint', 'dill', 'clove', 'anise', 'the', 'of'];
const schema = {
  vector_dim: 4,
  vector_metric: 'cosine',
  attributes: { text: { type: 'string', full_text: true }, n: { type: 'integer' } },
};

function corpus() {
  const r = rng(5);
  return Array.from({ length: 500 }, (_, i) => ({
    id: i,
    vector: Array.from({ length: 4 }, () => r() - 0.5),
    attributes: { text: Array.from({ length: 2 + Math.floor(r() * 12) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '), n: i },
  }));
}

async function load(batches: number) {
  const t = testApp();
  await t.call('PUT', '/v1/namespaces/s', schema);
  const docs = corpus();
  const size = Math.ceil(docs.length / batches);
  for (let i = 0; i < docs.length; i += size) {
    assert.equal((await t.call('POST', '/v1/namespaces/s/upsert', { documents: docs.slice(i, i + size) })).status, 200);
    const flushed = await t.call('POST', '/v1/namespaces/s/flush');
    assert.equal(flushed.status, 200);
    assert.equal(flushed.body.unindexed_documents, 0);
  }
  return t;
}

test('BM25 scores do not depend on how the corpus is split into segments', async () => {
  const one = await load(1);
  const five = await load(5);
  assert.equal((await one.call('GET', '/v1/namespaces/s')).body.segments.length, 1);
  const info = (await five.call('GET', '/v1/namespaces/s')).body;
  assert.equal(info.segments.length, 5);
  assert.equal(info.documents, 500);
  assert.deepEqual(info.segments.map((s: { documents: number }) => s.documents), [100, 100, 100, 100, 100]);
  for (const query of ['salt', 'basil thyme', 'mint of the dill', 'anise clove sage']) {
    const body = { full_text: { field: 'text', query }, top_k: 500, include_attributes: false };
    const a = (await one.call('POST', '/v1/namespaces/s/query', body)).body.results;
    const b = (await five.call('POST', '/v1/namespaces/s/query', body)).body.results;
    const byId = (hits: Array<{ id: number; score: number }>) => new Map(hits.map((h) => [h.id, h.score]));
    assert.ok(a.length > 10);
    assert.deepEqual(byId(b), byId(a), `scores for "${query}"`);
  }
});

test('writes after a flush supersede segment rows; deletes hide them; merges keep the newest version', async () => {
  const t = await load(5);
  await t.call('POST', '/v1/namespaces/s/upsert', { documents: [{ id: 7, vector: [1, 0, 0, 0], attributes: { text: 'saffron', n: -1 } }] });
  await t.call('POST', '/v1/namespaces/s/delete', { ids: [8, 9] });
  await t.call('POST', '/v1/namespaces/s/delete', { filter: { field: 'n', op: 'gte', value: 490 } });
  const check = async () => {
    assert.equal((await t.call('GET', '/v1/namespaces/s/documents/7')).body.attributes.text, 'saffron');
    assert.equal((await t.call('GET', '/v1/namespaces/s/documents/8')).status, 404);
    assert.equal((await t.call('GET', '/v1/namespaces/s/documents/495')).status, 404);
    const hits = (await t.call('POST', '/v1/namespaces/s/query', { vector: [1, 0, 0, 0], top_k: 500, include_attributes: false })).body.results;
    const ids = hits.map((h: { id: number }) => h.id);
    assert.equal(ids.length, 500 - 2 - 10);
    assert.equal(new Set(ids).size, ids.length, 'each document appears once');
    assert.ok(!ids.includes(8) && !ids.includes(495));
    const text = (await t.call('POST', '/v1/namespaces/s/query', { full_text: { field: 'text', query: 'saffron' } })).body.results;
    assert.deepEqual(text.map((h: { id: number }) => h.id), [7]);
    assert.equal((await t.call('GET', '/v1/namespaces/s')).body.documents, 488);
  };
  await check();
  assert.equal((await t.call('POST', '/v1/namespaces/s/flush')).body.unindexed_documents, 0);
  await check();
  const compacted = await t.call('POST', '/v1/namespaces/s/compact');
  assert.ok(compacted.body.merges >= 1);
  assert.ok(compacted.body.segments.length <= 4);
  await check();
  // A filter whose range excludes every segment's min/max finds nothing and errors nowhere.
  const none = await t.call('POST', '/v1/namespaces/s/query', { vector: [1, 0, 0, 0], filter: { field: 'n', op: 'gt', value: 10_000 } });
  assert.deepEqual(none.body.results, []);
});
