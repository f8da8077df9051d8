// Block-max top-k (text format 2 segments) against the exhaustive scorer over the same rows:
// the same hits, in the same order, with bit-for-bit the same scores, ties included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { textSearch } from '../../src/query/executor.ts';
import type { CompiledFilter } from '../../src/query/filter/index.ts';
import type { ParsedQuery } from '../../src/query/request.ts';
import type { FullTextOptions, NamespaceSchema } from '../../src/schema/types.ts';
import type { RowSource } from '../../src/segment/row-source.ts';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import { encodeBlockTextField } from '../../src/segment/text/block-index.ts';
import { BlockTextIndex, loadedSection } from '../../src/segment/text/block-reader.ts';
import type { TextIndexView } from '../../src/segment/text/index-view.ts';
import { MemTextIndex } from '../../src/segment/text/mem-index.ts';
import { rng } from '../support/rng.ts';

const TITLE: FullTextOptions = { language: 'none', stemming: false, remove_stopwords: false, case_sensitive: false, k1: 1.2, b: 0.75 };
const BODY: FullTextOptions = { ...TITLE, k1: 0.9, b: 0.4 };
const SCHEMA: NamespaceSchema = {
  vector_dim: 1,
  vector_metric: 'l2',
  attributes: {
    title: { type: 'string', full_text: TITLE, filterable: false },
    body: { type: 'array<string>', full_text: BODY, filterable: false },
    n: { type: 'integer', full_text: null, filterable: true },
  },
};
// Zipf-like: "w0" is in most rows (many blocks), the last words in few.
const VOCAB = Array.from({ length: 14 }, (_, i) => `w${i}`);

function word(rand: () => number): string {
  return VOCAB[Math.min(VOCAB.length - 1, Math.floor(-Math.log(1 - rand()) * 3))]!;
}

function text(rand: () => number, max: number): string {
  return Array.from({ length: Math.floor(rand() * max) }, () => word(rand)).join(' ');
}

interface Doc { title: string; body: string[] }

function docs(rand: () => number, n: number): Doc[] {
  const out: Doc[] = [];
  for (let i = 0; i < n; i++) {
    // Repeated documents make exact ties, which must break by (source, row) like the heap does.
    if (i > 0 && rand() < 0.15) out.push(out[Math.floor(rand() * i)]!);
    else out.push({ title: text(rand, 8), body: rand() < 0.1 ? [] : [text(rand, 50), text(rand, 12)] });
  }
  return out;
}

async function segmentSource(rows: Doc[], live: Uint8Array): Promise<RowSource> {
  const views = new Map<string, TextIndexView>();
  for (const [field, opts] of [['title', TITLE], ['body', BODY]] as const) {
    const { bytes } = encodeBlockTextField(createAnalyzer(opts), rows.map((d) => d[field]));
    views.set(field, (await BlockTextIndex.open(loadedSection(bytes), `text:${field}`)).view(live));
  }
  return fakeSource(rows.length, live, (f) => views.get(f));
}

function tailSource(rows: Doc[]): RowSource {
  const title = new MemTextIndex(createAnalyzer(TITLE));
  const body = new MemTextIndex(createAnalyzer(BODY));
  rows.forEach((d, row) => {
    title.add(row, d.title);
    body.add(row, d.body);
  });
  return fakeSource(rows.length, new Uint8Array(rows.length).fill(1), (f) => (f === 'title' ? title : body));
}

function fakeSource(rowCount: number, live: Uint8Array, textIndex: (f: string) => TextIndexView | undefined): RowSource {
  return {
    rowCount,
    isLive: (row) => live[row] === 1,
    textIndex,
    attributes: (row) => ({ n: row }),
    id: (row) => BigInt(row),
  } as Partial<RowSource> as RowSource;
}

const FIELD_SETS = [['title'], ['body'], ['title', 'body'], ['body', 'title']] as const;

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  segments: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 3 }),
  tail: fc.integer({ min: 0, max: 60 }),
  deadShare: fc.constantFrom(0, 0, 0.05, 0.5),
  query: fc.array(fc.constantFrom(...VOCAB, 'absent'), { minLength: 1, maxLength: 5 }),
  k: fc.integer({ min: 1, max: 40 }),
  fields: fc.constantFrom(...FIELD_SETS),
  weights: fc.array(fc.constantFrom(0, 0.25, 1, 2.5), { minLength: 2, maxLength: 2 }),
  filterMod: fc.constantFrom(0, 0, 2, 3, 7),
});

test('block-max top-k returns exactly the exhaustive top-k: rows, order, scores and ties', async () => {
  await fc.assert(fc.asyncProperty(scenario, async (s) => {
    const rand = rng(s.seed);
    const sources: RowSource[] = [];
    for (const n of s.segments) {
      const rows = docs(rand, n);
      sources.push(await segmentSource(rows, new Uint8Array(n).map(() => (rand() < s.deadShare ? 0 : 1))));
    }
    // The tail sits between segments, as the executor may be handed it anywhere.
    sources.splice(1, 0, tailSource(docs(rand, s.tail)));
    const filter: CompiledFilter | null = s.filterMod === 0 ? null : {
      match: (doc) => (doc.attributes.n as number) % s.filterMod !== 0,
      fields: new Set(['n']),
      ast: {} as CompiledFilter['ast'],
    };
    const q = {
      vector: null, topK: s.k, filter, vectorWeight: 1, includeVector: false, includeAttributes: false, ef: null,
      consistency: 'strong', fullText: { fields: s.fields.map((field, i) => ({ field, weight: s.weights[i]! })), query: s.query.join(' '), weight: 1 },
    } as ParsedQuery;
    const hits = async (blockMax: 'always' | 'auto' | 'never') =>
      (await textSearch(SCHEMA, sources, q, s.k, { blockMax })).map((h) => [sources.indexOf(h.source), h.row, h.score]);
    const want = await hits('never');
    assert.deepEqual(await hits('always'), want);
    assert.deepEqual(await hits('auto'), want);
  }), { numRuns: 300 });
});
