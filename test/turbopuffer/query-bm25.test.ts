// rank_by BM25 clauses through turbopuffer's client: each clause's score is Lucene's BM25 with
// namespace-wide statistics (checked against a model computed here), Sum adds clauses, Max takes
// the best, Product weights one, and last_as_prefix lets the last token stand for any it begins.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';
import { seed, type SiltDoc } from '../support/turbopuffer-data.ts';

let server: TurbopufferServer;
const words = ['walrus', 'tusk', 'ice', 'arctic', 'diet', 'mollusk', 'seal', 'whisker', 'marine', 'mammal'];
// Short documents (lengths under 24 are exact in Lucene's length norm), half in a segment, half in the tail.
const docs: SiltDoc[] = Array.from({ length: 60 }, (_, i) => ({
  id: i,
  vector: [1, i],
  attributes: {
    title: Array.from({ length: 1 + (i % 5) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '),
    body: Array.from({ length: 2 + (i % 7) }, (_, j) => words[(i * 3 + j * 5) % words.length]).join(' '),
    kind: i % 2 ? 'odd' : 'even',
  },
}));
const plain = { language: 'none', stemming: false, remove_stopwords: false };

before(async () => {
  server = await turbopufferServer();
  await seed(server, 'bm25', { vector_dim: 2, attributes: { title: { type: 'string', full_text: plain }, body: { type: 'string', full_text: plain }, kind: 'string' } }, docs, 30);
});
after(() => server.close());

/** Lucene's BM25 (k1 1.2, b 0.75) of `terms` in `field`, for every document. */
function model(field: 'title' | 'body', terms: string[]): Map<number, number> {
  const tokens = docs.map((d) => (d.attributes![field] as string).split(' '));
  const avgdl = tokens.reduce((n, t) => n + t.length, 0) / docs.length;
  const scores = new Map<number, number>();
  for (const term of terms) {
    const df = tokens.filter((t) => t.includes(term)).length;
    const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
    tokens.forEach((t, i) => {
      const tf = t.filter((x) => x === term).length;
      if (tf === 0) return;
      scores.set(i, (scores.get(i) ?? 0) + (idf * tf) / (tf + 1.2 * (1 - 0.75 + (0.75 * t.length) / avgdl)));
    });
  }
  return scores;
}

function ranked(scores: Map<number, number>, k: number) {
  return [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
}

function assertRows(rows: Array<{ id: unknown; $dist?: number }>, expected: Array<[number, number]>) {
  assert.deepEqual(rows.map((r) => r.$dist!.toFixed(5)), expected.map(([, s]) => s.toFixed(5)));
  // Equal scores may come in either order; the set of ids at each score must agree.
  assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(expected.map(([id]) => id)));
}

test('one BM25 clause scores as Lucene does, $dist is the score', async () => {
  // top_k beyond every match: ties at a cutoff could go either way.
  const res = await server.client.namespace('bm25').query({ rank_by: ['title', 'BM25', 'walrus ice'], top_k: 60 });
  assertRows(res.rows!, ranked(model('title', ['walrus', 'ice']), 60));
  const top = await server.client.namespace('bm25').query({ rank_by: ['title', 'BM25', 'walrus ice'], top_k: 3 });
  assert.deepEqual(top.rows!.map((r) => r.id), res.rows!.slice(0, 3).map((r) => r.id));
});

test('Sum adds clauses over two fields, Max keeps the best, Product weights', async () => {
  const ns = server.client.namespace('bm25');
  const t = model('title', ['tusk']);
  const b = model('body', ['seal', 'diet']);
  // A document matched by one clause only scores that clause (the other contributes nothing).
  const combine = (f: (x: number, y: number) => number, wt = 1) => {
    const out = new Map<number, number>();
    for (const id of new Set([...t.keys(), ...b.keys()])) {
      const x = t.has(id) ? wt * t.get(id)! : undefined;
      const y = b.get(id);
      out.set(id, x === undefined ? y! : y === undefined ? x : f(x, y));
    }
    return out;
  };
  const sum = await ns.query({ rank_by: ['Sum', [['title', 'BM25', 'tusk'], ['body', 'BM25', 'seal diet']]], top_k: 60 });
  assertRows(sum.rows!, ranked(combine((x, y) => x + y), 60));
  const max = await ns.query({ rank_by: ['Max', [['title', 'BM25', 'tusk'], ['body', 'BM25', 'seal diet']]], top_k: 60 });
  assertRows(max.rows!, ranked(combine(Math.max), 60));
  const product = await ns.query({ rank_by: ['Sum', [['Product', 3, ['title', 'BM25', 'tusk']], ['body', 'BM25', 'seal diet']]], top_k: 60 });
  assertRows(product.rows!, ranked(combine((x, y) => x + y, 3), 60));
});

test('filters restrict BM25 before ranking', async () => {
  const res = await server.client.namespace('bm25').query({ rank_by: ['body', 'BM25', 'marine'], filters: ['kind', 'Eq', 'odd'], top_k: 50 });
  const expected = ranked(model('body', ['marine']), 60).filter(([id]) => id % 2 === 1);
  assertRows(res.rows!, expected);
});

test('last_as_prefix: the last token matches the terms it begins', async () => {
  const ns = server.client.namespace('bm25');
  const prefix = await ns.query({ rank_by: ['title', 'BM25', 'walrus mol', { last_as_prefix: true }], top_k: 60 });
  const whole = model('title', ['walrus', 'mollusk']);
  assertRows(prefix.rows!, ranked(whole, 60));
  const literal = await ns.query({ rank_by: ['title', 'BM25', 'walrus mol'], top_k: 60 });
  assertRows(literal.rows!, ranked(model('title', ['walrus']), 60));
});

test('BM25 on an attribute without full-text search is refused, naming it', async () => {
  await assert.rejects(server.client.namespace('bm25').query({ rank_by: ['kind', 'BM25', 'odd'] }), (e: { status?: number; message?: string }) => e.status === 400 && /'kind' is not a full-text attribute/.test(e.message ?? ''));
});

// Terms that only a flushed segment holds: 150 of them share the prefix "tern" (more than the 64
// a prefix stands for, across three dictionary blocks of 64), 10 share "ban" as terms 60 to 69
// (across the first block boundary, after 60 "a…" terms).
const filler = Array.from({ length: 60 }, (_, i) => `a${String(i).padStart(3, '0')}`);
const bans = Array.from({ length: 10 }, (_, i) => `ban${i}`);
const terns = Array.from({ length: 150 }, (_, i) => `tern${String(i).padStart(3, '0')}`);
const segmentDocs: SiltDoc[] = [...filler, ...bans, ...terns].map((term, i) => ({ id: i, vector: [1, i], attributes: { title: `${term} ${i % 3 ? 'gull' : 'gull gull'}` } }));

test('last_as_prefix finds terms only a flushed segment holds, scoring as in the tail', async () => {
  const schema = { vector_dim: 2, attributes: { title: { type: 'string', full_text: plain } } };
  await seed(server, 'bm25-prefix', schema, segmentDocs, 0);
  const ns = server.client.namespace('bm25-prefix');
  const ask = async (text: string) => (await ns.query({ rank_by: ['title', 'BM25', text, { last_as_prefix: true }], top_k: 250 })).rows!
    .map((r) => [r.id as number, r.$dist!.toFixed(6)] as const).sort((x, y) => x[0] - y[0]);
  const tail = { ban: await ask('gull ban'), tern: await ask('tern') };
  assert.equal(tail.ban.length, segmentDocs.length);
  // Past 64 matching terms, the first 64 in term order (written in that order, so the tail agrees).
  assert.deepEqual(new Set(tail.tern.map(([id]) => id)), new Set(terns.slice(0, 64).map((_, i) => filler.length + bans.length + i)));
  assert.equal((await server.silt.call('POST', '/v1/namespaces/bm25-prefix/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` })).status, 200);
  assert.deepEqual(await ask('gull ban'), tail.ban);
  assert.deepEqual(await ask('tern'), tail.tern);
});

test('last_as_prefix past 64 matching terms written out of order: the tail expands to the same terms as the segment, same ranking', async () => {
  const schema = { vector_dim: 2, attributes: { title: { type: 'string', full_text: plain } } };
  // Written in reverse term order: the tail's dictionary is in write order.
  const docs: SiltDoc[] = [...terns].reverse().map((term, i) => ({ id: i, vector: [1, i], attributes: { title: `${term} ${i % 3 ? 'gull' : 'gull gull'}` } }));
  await seed(server, 'bm25-prefix-order', schema, docs, 0);
  const ns = server.client.namespace('bm25-prefix-order');
  const ask = async () => (await ns.query({ rank_by: ['title', 'BM25', 'tern', { last_as_prefix: true }], top_k: 250 })).rows!
    .map((r) => [r.id as number, r.$dist!.toFixed(6)] as const);
  const tail = await ask();
  const expanded = new Set(terns.slice(0, 64));
  assert.deepEqual(new Set(tail.map(([id]) => (docs[id]!.attributes!.title as string).split(' ')[0])), expanded, 'the first 64 terms in term order');
  assert.equal((await server.silt.call('POST', '/v1/namespaces/bm25-prefix-order/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` })).status, 200);
  assert.deepEqual(await ask(), tail, 'the segment gives the same rows, scores and order');
});
