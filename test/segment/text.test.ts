import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SegmentInput } from '../../src/segment/index.ts';
import { buildSegment, SegmentReader } from '../../src/segment/index.ts';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import { combineStats, scoreView, type TextIndexView } from '../../src/segment/text/index-view.ts';
import { MemTextIndex } from '../../src/segment/text/mem-index.ts';
import { openBytes, randomInput, randomText, rng } from './helpers.ts';

const FIELDS = ['title', 'tags'] as const;
const PARAMS = { k1: 1.2, b: 0.75 };

function memIndex(input: SegmentInput, field: string, live?: Uint8Array): MemTextIndex {
  const idx = new MemTextIndex(createAnalyzer(input.schema.attributes[field]!.full_text!));
  input.attributes.forEach((a, row) => {
    const v = a[field];
    if (v !== undefined && v !== null && (live === undefined || live[row] === 1)) idx.add(row, v as string | string[]);
  });
  return idx;
}

function plain(p: { rows: ArrayLike<number>; tfs: ArrayLike<number> } | undefined) {
  return p === undefined ? undefined : { rows: Array.from(p.rows), tfs: Array.from(p.tfs) };
}

const ABSENT = ['zzz', 'the', '', 'Quick'];

/** The view with every term of `mem`, the absent ones and the queries' fetched (segments read postings by range). */
function fetched(view: TextIndexView, mem: MemTextIndex, queries: string[][]): Promise<TextIndexView> {
  return view.withTerms!([...mem.terms(), ...ABSENT, ...queries.flat()]);
}

async function assertSameIndex(base: TextIndexView, mem: MemTextIndex, rows: number, queries: string[][], label: string) {
  const seg = await fetched(base, mem, queries);
  assert.deepEqual(seg.stats(), mem.stats(), `${label}: stats`);
  for (const term of mem.terms()) {
    assert.deepEqual(plain(seg.postings(term)), plain(mem.postings(term)), `${label}: postings of ${term}`);
    assert.equal(seg.docFreq(term), mem.docFreq(term), `${label}: docFreq of ${term}`);
  }
  for (const absent of ABSENT) {
    assert.deepEqual(plain(seg.postings(absent)), plain(mem.postings(absent)), `${label}: ${absent}`);
    assert.equal(seg.docFreq(absent), mem.docFreq(absent));
  }
  for (let row = 0; row < rows; row++) assert.equal(seg.docLength(row), mem.docLength(row), `${label}: docLength ${row}`);
  for (const terms of queries) {
    const want = scoreView(mem, terms, combineStats([mem]), PARAMS);
    const got = scoreView(seg, terms, combineStats([seg]), PARAMS);
    assert.deepEqual(got, want, `${label}: scores for ${terms.join(' ')}`);
  }
}

async function setup(): Promise<{ input: SegmentInput; reader: SegmentReader; queries: Map<string, string[][]> }> {
  const input = randomInput({ rows: 1500, dim: 4, metric: 'cosine', seed: 11 });
  const reader = await openBytes((await buildSegment(input)).bytes, input.schema);
  const rand = rng(12);
  const queries = new Map<string, string[][]>();
  for (const field of FIELDS) {
    const analyze = createAnalyzer(input.schema.attributes[field]!.full_text!);
    queries.set(field, Array.from({ length: 25 }, () => analyze(randomText(rand, 6))).filter((q) => q.length > 0));
  }
  return { input, reader, queries };
}

test('a segment text view equals a MemTextIndex over the same rows', async () => {
  const { input, reader, queries } = await setup();
  const all = new Uint8Array(input.ids.length).fill(1);
  for (const field of FIELDS) {
    const mem = memIndex(input, field);
    const view = reader.textView(field, all)!;
    await assertSameIndex(view, mem, input.ids.length, queries.get(field)!, field);
    assert.deepEqual(reader.meta.text[field], { ...mem.stats(), format: 2 }, `${field}: footer stats`);
    for (let row = 0; row < input.ids.length; row++) {
      assert.equal(await reader.exactLength(field, row), mem.exactLength(row));
    }
  }
  assert.equal(reader.textView('label', all), undefined, 'not a full-text attribute');
});

test('with dead rows, a view equals a MemTextIndex over only the live rows', async () => {
  const { input, reader, queries } = await setup();
  const rand = rng(13);
  const live = new Uint8Array(input.ids.length).map(() => (rand() < 0.3 ? 0 : 1));
  for (const field of FIELDS) {
    const mem = memIndex(input, field, live);
    await assertSameIndex(reader.textView(field, live)!, mem, input.ids.length, queries.get(field)!, `${field} (dead rows)`);
    // Precomputed stats (kept up to date by the caller with exactLength) are used as given.
    const view = reader.textView(field, live, mem.stats())!;
    assert.deepEqual(view.liveStats(), mem.stats());
  }
});

test('collection statistics combine across a segment view and the tail', async () => {
  const { input, reader, queries } = await setup();
  // Rows 0..999 stay in the segment; rows 1000.. are "re-written" into a tail index.
  const live = new Uint8Array(input.ids.length).map((_, r) => (r < 1000 ? 1 : 0));
  const tail = new MemTextIndex(createAnalyzer(input.schema.attributes.title!.full_text!));
  const whole = memIndex(input, 'title');
  input.attributes.forEach((a, row) => {
    if (row >= 1000 && typeof a.title === 'string') tail.add(row, a.title);
  });
  const seg = await fetched(reader.textView('title', live)!, whole, queries.get('title')!);
  for (const terms of queries.get('title')!) {
    const stats = combineStats([seg, tail]);
    const want = scoreView(whole, terms, combineStats([whole]), PARAMS);
    const got = new Map([...scoreView(seg, terms, stats, PARAMS), ...scoreView(tail, terms, stats, PARAMS)]);
    assert.deepEqual(new Map([...got].sort((x, y) => x[0] - y[0])), new Map([...want].sort((x, y) => x[0] - y[0])));
  }
});
