// Randomized: long sequences of upserts, re-upserts, deletes, deletes by filter, flushes,
// compactions and restarts, checked against a plain in-memory model after every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import { executeQuery } from '../../src/query/executor.ts';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import { idf, quantizeLength } from '../../src/segment/text/bm25.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const DIM = 6;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
const schema = parseNamespaceSchema({
  vector_dim: DIM,
  vector_metric: 'l2',
  attributes: { text: { type: 'string', full_text: true }, cat: { type: 'string' }, n: { type: 'integer' } },
});
const analyze = createAnalyzer(schema.attributes.text!.full_text!);

interface ModelDoc { id: bigint; vector: number[]; attributes: { text: string; cat: string; n: number } }

function modelBm25(docs: ModelDoc[], query: string): Array<{ id: bigint; score: number }> {
  const terms = analyze(query);
  const tokens = docs.map((d) => analyze(d.attributes.text));
  const withText = tokens.filter((t) => t.length > 0);
  const avgdl = withText.reduce((n, t) => n + t.length, 0) / withText.length;
  const out: Array<{ id: bigint; score: number }> = [];
  docs.forEach((d, i) => {
    const toks = tokens[i]!;
    let score = 0;
    for (const term of terms) {
      const tf = toks.filter((t) => t === term).length;
      if (tf === 0) continue;
      const df = tokens.filter((t) => t.includes(term)).length;
      const dl = quantizeLength(toks.length);
      score += idf(df, withText.length) * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl));
    }
    if (score > 0) out.push({ id: d.id, score });
  });
  return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

test('randomized operations agree with an in-memory model across flushes, merges and restarts', async () => {
  const store = new MemoryObjectStore();
  const deps = { store, maxBatchBytes: 1 << 20, indexing: { ...TEST_INDEXING, hnsw_ef_search: 400 }, tmpDir: tmpdir(), builds: TEST_BUILDS };
  let catalog = new NamespaceCatalog(deps);
  await catalog.create('m', schema);
  let ns: Namespace = await catalog.get('m');
  const model = new Map<bigint, ModelDoc>();
  const r = rng(2024);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const newDoc = (id: bigint): ModelDoc => ({
    id,
    vector: Array.from({ length: DIM }, () => Math.round((r() * 2 - 1) * 1000) / 1000),
    attributes: { text: Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(WORDS)).join(' '), cat: pick(['x', 'y', 'z']), n: Math.floor(r() * 100) },
  });
  const counts = { upsert: 0, delete: 0, filter: 0, flush: 0, compact: 0, restart: 0 };

  const check = async (step: number) => {
    const live = [...model.values()];
    const stats = ns.stats();
    assert.equal(stats.documents, live.length, `step ${step}: document count`);
    for (let i = 0; i < 5; i++) {
      const id = BigInt(Math.floor(r() * 400));
      const got = await ns.get(id);
      const want = model.get(id);
      assert.equal(got === null, want === undefined, `step ${step}: get ${id}`);
      if (got && want) {
        assert.deepEqual({ ...got.attributes }, want.attributes, `step ${step}: attributes of ${id}`);
        assert.deepEqual(Array.from(got.vector!), want.vector.map((x) => Math.fround(x)));
      }
    }
    // Vector, filtered: exact order (ef above the row count makes HNSW exhaustive here).
    const q = Array.from({ length: DIM }, () => r() * 2 - 1);
    const cat = pick(['x', 'y', 'z']);
    const filtered = live.filter((d) => d.attributes.cat !== cat);
    const dist = (d: ModelDoc) => Math.sqrt(d.vector.reduce((s, x, i) => s + (Math.fround(x) - Math.fround(q[i]!)) ** 2, 0));
    const expected = filtered.map((d) => ({ id: d.id, d: dist(d) })).sort((a, b) => a.d - b.d).slice(0, 10);
    const pq = parseQuery({ vector: q, top_k: 10, filter: { field: 'cat', op: 'ne', value: cat }, ef: 1000 }, schema, 'm', { default_top_k: 10, max_top_k: 1000 });
    const hits = await ns.query(pq);
    assert.deepEqual(hits.map((h) => BigInt(h.id)), expected.map((e) => e.id), `step ${step}: vector results`);
    hits.forEach((h) => assert.deepEqual({ ...h.attributes }, model.get(BigInt(h.id))!.attributes));
    // The same through HNSW paths only (overfetch-then-filter, filter-aware traversal): with ef
    // above the row count the graph search is exhaustive, so results must still be exact.
    const graphCases: Array<[unknown, (d: ModelDoc) => boolean]> = [
      [{ field: 'cat', op: 'ne', value: 'none' }, () => true],
      [{ field: 'cat', op: 'ne', value: cat }, (d) => d.attributes.cat !== cat],
      [{ field: 'n', op: 'lt', value: 8 }, (d) => d.attributes.n < 8],
    ];
    for (const [filter, keepDoc] of graphCases) {
      const wide = parseQuery({ vector: q, top_k: 10, filter }, schema, 'm', { default_top_k: 10, max_top_k: 1000 });
      const viaGraph = await executeQuery(schema, ns.sources(), wide, { ef: 1000, exactBudget: 0 });
      const keep = live.filter(keepDoc);
      const exact = keep.map((d) => ({ id: d.id, d: dist(d) })).sort((a, b) => a.d - b.d).slice(0, 10);
      assert.deepEqual(viaGraph.map((h) => BigInt(h.source.id(h.row) as bigint)), exact.map((e) => e.id), `step ${step}: HNSW-path results`);
    }
    // Full text: every match with its BM25 score from namespace-wide statistics.
    const query = `${pick(WORDS)} ${pick(WORDS)}`;
    const textHits = await ns.query(parseQuery({ full_text: { field: 'text', query }, top_k: 1000 }, schema, 'm', { default_top_k: 10, max_top_k: 1000 }));
    const want = modelBm25(live, query);
    const got = textHits.map((h) => ({ id: BigInt(h.id), score: h.score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    assert.equal(got.length, want.length, `step ${step}: text match count for "${query}"`);
    got.forEach((g, i) => {
      assert.ok(Math.abs(g.score - want[i]!.score) < 1e-9, `step ${step}: score ${g.score} vs ${want[i]!.score}`);
      if (i > 0 && Math.abs(want[i]!.score - want[i - 1]!.score) > 1e-9) assert.equal(g.id, want[i]!.id);
    });
  };

  for (let step = 0; step < 160; step++) {
    const roll = r();
    if (roll < 0.45) {
      const docs = Array.from({ length: 1 + Math.floor(r() * 25) }, () => newDoc(BigInt(Math.floor(r() * 400))));
      const unique = new Map(docs.map((d) => [d.id, d]));
      await ns.write({ kind: 'upsert', docs: docs.map((d) => ({ id: d.id, vector: Float32Array.from(d.vector), attributes: { ...d.attributes } })) });
      for (const d of unique.values()) model.set(d.id, d);
      counts.upsert++;
    } else if (roll < 0.6) {
      const ids = Array.from({ length: 1 + Math.floor(r() * 10) }, () => BigInt(Math.floor(r() * 400)));
      const { result } = await ns.write({ kind: 'delete', ids });
      assert.equal(result.count, new Set(ids.filter((id) => model.has(id))).size);
      ids.forEach((id) => model.delete(id));
      counts.delete++;
    } else if (roll < 0.68) {
      const below = Math.floor(r() * 20);
      const { compileFilter } = await import('../../src/query/filter/index.ts');
      const { result } = await ns.write({ kind: 'delete_filter', filter: compileFilter({ field: 'n', op: 'lt', value: below }, schema) });
      const doomed = [...model.values()].filter((d) => d.attributes.n < below);
      assert.equal(result.count, doomed.length);
      doomed.forEach((d) => model.delete(d.id));
      counts.filter++;
    } else if (roll < 0.82) {
      await flushTail(ns);
      counts.flush++;
    } else if (roll < 0.92) {
      await compactOnce(ns, { max_segments: 3, max_total_docs: 250 });
      counts.compact++;
    } else {
      await catalog.close(new Error('restart'));
      catalog = new NamespaceCatalog(deps);
      ns = await catalog.get('m');
      counts.restart++;
    }
    await check(step);
  }
  assert.ok(Object.values(counts).every((c) => c > 3), JSON.stringify(counts));
  assert.ok(ns.segments.length > 0);
});
