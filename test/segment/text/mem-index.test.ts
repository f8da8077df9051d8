import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FullTextOptions } from '../../../src/schema/types.ts';
import { createAnalyzer } from '../../../src/segment/text/analyzer.ts';
import { combineStats, scoreView, scoreViewRows, type TextIndexView } from '../../../src/segment/text/index-view.ts';
import { MemTextIndex } from '../../../src/segment/text/mem-index.ts';
import { TopKCollector, topK } from '../../../src/segment/text/top-k.ts';
import { rng } from '../../support/rng.ts';

const ENGLISH: FullTextOptions = {
  language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.2, b: 0.75,
};
const analyze = createAnalyzer(ENGLISH);
const PARAMS = { k1: 1.2, b: 0.75 };

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'theta', 'kappa', 'lambda',
  'running', 'runs', 'the', 'of', 'omega', 'sigma', 'tau'];


function randomText(rand: () => number): string {
  const n = Math.floor(rand() * 60); // up to 59 words: crosses the exact-norm limit of 40
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  return out.join(' ');
}

function snapshot(idx: MemTextIndex, rows: number) {
  const terms = [...idx.terms()].sort();
  return {
    stats: idx.stats(),
    terms: terms.map((t) => {
      const p = idx.postings(t)!;
      return [t, idx.docFreq(t), Array.from(p.rows), Array.from(p.tfs)];
    }),
    lengths: Array.from({ length: rows }, (_, r) => [idx.docLength(r), idx.exactLength(r), idx.has(r)]),
  };
}

test('add/remove/re-add leaves exactly the index a fresh build of the final state gives', () => {
  const rand = rng(7);
  const ROWS = 300;
  const idx = new MemTextIndex(analyze);
  const state = new Map<number, string | string[] | null>();
  for (let op = 0; op < 3000; op++) {
    const row = Math.floor(rand() * ROWS);
    const r = rand();
    if (r < 0.55) {
      const text = rand() < 0.2 ? [randomText(rand), randomText(rand)] : rand() < 0.05 ? null : randomText(rand);
      idx.add(row, text);
      state.set(row, text);
    } else {
      const v = state.get(row);
      const indexed = v !== undefined && v !== null && [v].flat().some((t) => analyze(t).length > 0);
      assert.equal(idx.remove(row), indexed);
      state.delete(row);
    }
    if (op % 500 === 0) scoreView(idx, ['alpha', 'run'], combineStats([idx]), PARAMS); // read in between
  }
  const fresh = new MemTextIndex(analyze);
  for (const row of [...state.keys()].sort((a, b) => a - b)) fresh.add(row, state.get(row)!);
  assert.deepEqual(snapshot(idx, ROWS), snapshot(fresh, ROWS));
  const q = analyze('alpha running theta omega');
  assert.deepEqual(scoreView(idx, q, combineStats([idx]), PARAMS), scoreView(fresh, q, combineStats([fresh]), PARAMS));
});

test('removing everything returns the stats to zero', () => {
  const idx = new MemTextIndex(analyze);
  idx.add(0, 'alpha beta');
  idx.add(1, ['gamma', 'alpha alpha']);
  assert.equal(idx.remove(0), true);
  assert.equal(idx.remove(0), false);
  assert.equal(idx.remove(1), true);
  assert.deepEqual(idx.stats(), { docCount: 0, sumTotalTermFreq: 0 });
  assert.equal(idx.docFreq('alpha'), 0);
  assert.equal(idx.postings('alpha'), undefined);
  assert.equal(idx.docLength(1), 0);
  assert.deepEqual([...idx.terms()], []);
});

test('rows without indexable tokens are not counted; array values are one field', () => {
  const idx = new MemTextIndex(analyze);
  idx.add(0, null);
  idx.add(1, 'the of and'); // only stop words
  idx.add(2, []);
  idx.add(3, ['alpha beta', 'the gamma', 'alpha']);
  assert.deepEqual(idx.stats(), { docCount: 1, sumTotalTermFreq: 4 });
  assert.equal(idx.has(1), false);
  assert.deepEqual(Array.from(idx.postings('alpha')!.tfs), [2]);
  // add() on an indexed row replaces it.
  idx.add(3, 'delta');
  assert.deepEqual(idx.stats(), { docCount: 1, sumTotalTermFreq: 1 });
  assert.equal(idx.docFreq('alpha'), 0);
});

test('postings stay ascending when rows arrive out of order', () => {
  const idx = new MemTextIndex(analyze);
  for (const row of [5, 2, 9, 0, 7]) idx.add(row, 'alpha');
  idx.remove(9);
  idx.add(9, 'alpha alpha');
  idx.add(1, 'alpha');
  const p = idx.postings('alpha')!;
  assert.deepEqual(Array.from(p.rows), [0, 1, 2, 5, 7, 9]);
  assert.deepEqual(Array.from(p.tfs), [1, 1, 1, 1, 1, 2]);
});

test('a document scores the same whichever view holds it (combined statistics)', () => {
  const rand = rng(42);
  const texts = Array.from({ length: 400 }, () => randomText(rand));
  const whole = new MemTextIndex(analyze);
  texts.forEach((t, i) => whole.add(i, t));

  // Three views with their own row numbering, like two segments and a tail.
  const views: Array<{ view: MemTextIndex; global: number[] }> = [0, 1, 2].map(() => ({
    view: new MemTextIndex(analyze), global: [],
  }));
  texts.forEach((t, i) => {
    const part = views[Math.floor(rand() * 3)]!;
    part.view.add(part.global.length, t);
    part.global.push(i);
  });
  const all: TextIndexView[] = views.map((v) => v.view);
  const stats = combineStats(all);
  assert.equal(stats.docCount, whole.stats().docCount);
  assert.equal(stats.sumTotalTermFreq, whole.stats().sumTotalTermFreq);

  for (const query of ['alpha beta', 'running theta theta', 'omega sigma tau kappa', 'nothing']) {
    const q = analyze(query);
    const expected = scoreView(whole, q, combineStats([whole]), PARAMS);
    const got = new Map<number, number>();
    for (const { view, global } of views) {
      for (const [row, s] of scoreView(view, q, stats, PARAMS)) got.set(global[row]!, s);
    }
    assert.equal(got.size, expected.size, query);
    for (const [row, s] of expected) assert.equal(got.get(row), s, `${query}: row ${row}`);
    assert.deepEqual(topK(got, 10), topK(expected, 10));

    // The same top 10 straight from the views' scored rows, without any Map.
    const collector = new TopKCollector(10);
    for (const { view, global } of views) {
      const { rows, scores } = scoreViewRows(view, q, stats, PARAMS);
      rows.forEach((row, i) => collector.offer(global[row]!, scores[i]!));
    }
    assert.deepEqual(collector.result(), topK(expected, 10));
  }
});

test('sparse row numbers are scored the same (Map accumulation instead of dense arrays)', () => {
  const dense = new MemTextIndex(analyze);
  const sparse = new MemTextIndex(analyze);
  const texts = ['alpha beta beta', 'beta gamma', 'alpha gamma gamma delta'];
  texts.forEach((t, i) => {
    dense.add(i, t);
    sparse.add(i * 400_000, t);
  });
  const q = analyze('alpha beta gamma');
  const a = scoreView(dense, q, combineStats([dense]), PARAMS);
  const b = scoreView(sparse, q, combineStats([sparse]), PARAMS);
  assert.deepEqual([...b].map(([row, s]) => [row / 400_000, s]).sort(), [...a].sort());
  // accept is applied on both paths.
  assert.deepEqual([...scoreView(sparse, q, combineStats([sparse]), PARAMS, (r) => r > 0).keys()].sort(), [400_000, 800_000]);
  assert.deepEqual([...scoreView(dense, q, combineStats([dense]), PARAMS, (r) => r > 0).keys()].sort(), [1, 2]);
});

test('topK keeps the k best, ties by row ascending', () => {
  const scores = new Map<number, number>([[5, 1], [3, 2], [9, 2], [1, 0.5], [7, 2], [2, 1]]);
  assert.deepEqual(topK(scores, 3), [[3, 2], [7, 2], [9, 2]]);
  assert.deepEqual(topK(scores, 4), [[3, 2], [7, 2], [9, 2], [2, 1]]);
  assert.deepEqual(topK(scores, 100).map(([r]) => r), [3, 7, 9, 2, 5, 1]);
  assert.deepEqual(topK(scores, 0), []);
  assert.deepEqual(topK(new Map(), 5), []);

  const rand = rng(3);
  const many = new Map<number, number>();
  for (let r = 0; r < 5000; r++) many.set(r, Math.floor(rand() * 50) / 7);
  const sorted = [...many].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const k of [1, 10, 100, 4999, 5000, 6000]) assert.deepEqual(topK(many, k), sorted.slice(0, k));
});
