import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FullTextOptions } from '../../../src/schema/types.ts';
import { createAnalyzer } from '../../../src/segment/text/analyzer.ts';
import {
  byte4ToInt, int4ToLong, intToByte4, LENGTH_TABLE, longToInt4, quantizeLength,
} from '../../../src/segment/text/bm25.ts';
import { combineStats, scoreView } from '../../../src/segment/text/index-view.ts';
import { MemTextIndex } from '../../../src/segment/text/mem-index.ts';

const NONE: FullTextOptions = {
  language: 'none', stemming: false, remove_stopwords: false, case_sensitive: false, k1: 1.2, b: 0.75,
};

/** Independent statement of Lucene's length quantization: 0..23 exact; above, keep 4 bits of (n − 24). */
function expectedQuantized(n: number): number {
  if (n < 24) return n;
  const rest = n - 24;
  const bits = rest.toString(2).length;
  if (bits <= 4) return n;
  const unit = 2 ** (bits - 4);
  return 24 + Math.floor(rest / unit) * unit;
}

test('norm encoding: lengths up to 40 are exact, larger ones keep 4 significant bits', () => {
  for (let n = 0; n <= 40; n++) assert.equal(quantizeLength(n), n, `length ${n}`);
  assert.equal(quantizeLength(41), 40);
  assert.equal(quantizeLength(42), 42);
  assert.equal(quantizeLength(43), 42);
  assert.equal(quantizeLength(100), 96);
  assert.equal(quantizeLength(1000), 984);
  assert.equal(intToByte4(100), 57);
  assert.equal(intToByte4(2 ** 31 - 1), 255);
  assert.equal(byte4ToInt(255), 2013265944);
  for (let n = 0; n < 100_000; n += 7) assert.equal(quantizeLength(n), expectedQuantized(n), `length ${n}`);
});

test('norm encoding round-trips every byte and is monotonic (Lucene TestSmallFloat.testByte4)', () => {
  for (let b = 0; b < 256; b++) assert.equal(intToByte4(byte4ToInt(b)), b);
  for (let b = 1; b < 256; b++) assert.ok(LENGTH_TABLE[b]! > LENGTH_TABLE[b - 1]!);
  for (let i = 0; i <= 16; i++) assert.equal(int4ToLong(longToInt4(i)), i);
  // Every length encodes to the largest byte whose decoded length does not exceed it.
  let seed = 12345;
  for (let k = 0; k < 2000; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = seed % 2 ** (5 + (k % 26));
    const b = intToByte4(n);
    assert.ok(byte4ToInt(b) <= n);
    if (b < 255) assert.ok(byte4ToInt(b + 1) > n);
  }
  assert.throws(() => intToByte4(-1), RangeError);
});

/** BM25 written out term by term, independently of src/: Lucene 9 BM25Similarity. */
function luceneBm25(
  tf: number, dl: number, df: number, docCount: number, avgdl: number, k1: number, b: number,
): number {
  const idf = Math.log(1 + (docCount - df + 0.5) / (df + 0.5));
  const lengthNorm = k1 * (1 - b + (b * dl) / avgdl);
  return idf * (tf / (tf + lengthNorm));
}

test('BM25 scores on a tiny corpus equal the formula computed by hand', () => {
  const docs = [
    'apple banana apple',
    'banana cherry',
    'cherry cherry cherry date',
    'apple',
    'date elderberry fig grape ' + 'filler '.repeat(60), // 64 tokens
  ];
  const idx = new MemTextIndex(createAnalyzer(NONE));
  docs.forEach((d, row) => idx.add(row, d));
  const lengths = [3, 2, 4, 1, 64];
  assert.deepEqual(docs.map((_, r) => idx.exactLength(r)), lengths);
  assert.equal(idx.docLength(4), 64); // 64 − 24 = 40 = 0b1010_00: 4 significant bits, exact
  const sum = lengths.reduce((a, x) => a + x, 0);
  assert.deepEqual(idx.stats(), { docCount: 5, sumTotalTermFreq: sum });
  const avgdl = sum / 5;
  const stats = combineStats([idx]);

  const params = { k1: 1.2, b: 0.75 };
  const scores = scoreView(idx, ['apple', 'cherry'], stats, params);
  const expected = new Map<number, number>([
    [0, luceneBm25(2, 3, 2, 5, avgdl, 1.2, 0.75)],
    [1, luceneBm25(1, 2, 2, 5, avgdl, 1.2, 0.75)],
    [2, luceneBm25(3, 4, 2, 5, avgdl, 1.2, 0.75)],
    [3, luceneBm25(1, 1, 2, 5, avgdl, 1.2, 0.75)],
  ]);
  assert.equal(scores.size, expected.size);
  for (const [row, s] of expected) assert.ok(Math.abs(scores.get(row)! - s) < 1e-12, `row ${row}`);

  // A repeated query term counts once per occurrence; boost multiplies; k1 = 0 ignores tf.
  const twice = scoreView(idx, ['apple', 'apple'], stats, params);
  assert.ok(Math.abs(twice.get(0)! - 2 * luceneBm25(2, 3, 2, 5, avgdl, 1.2, 0.75)) < 1e-12);
  const boosted = scoreView(idx, ['date'], stats, { ...params, boost: 3 });
  assert.ok(Math.abs(boosted.get(2)! - 3 * luceneBm25(1, 4, 2, 5, avgdl, 1.2, 0.75)) < 1e-12);
  const noTf = scoreView(idx, ['cherry'], stats, { k1: 0, b: 0.75 });
  assert.ok(Math.abs(noTf.get(1)! - noTf.get(2)!) < 1e-12);
  // Unknown terms score nothing; accept filters rows out before scoring.
  assert.equal(scoreView(idx, ['kiwi'], stats, params).size, 0);
  assert.deepEqual([...scoreView(idx, ['apple'], stats, params, (r) => r !== 0).keys()], [3]);
});

test('long documents are scored with the quantized length, avgdl with the exact one', () => {
  const idx = new MemTextIndex(createAnalyzer(NONE));
  idx.add(0, 'needle ' + 'hay '.repeat(99)); // 100 tokens → dl 96
  idx.add(1, 'hay hay needle'); // 3 tokens
  const stats = combineStats([idx]);
  const avgdl = 103 / 2;
  const s = scoreView(idx, ['needle'], stats, { k1: 1.2, b: 0.75 });
  assert.ok(Math.abs(s.get(0)! - luceneBm25(1, 96, 2, 2, avgdl, 1.2, 0.75)) < 1e-12);
  assert.notEqual(s.get(0), luceneBm25(1, 100, 2, 2, avgdl, 1.2, 0.75));
});

test('matches an Elasticsearch explain output (standard analyzer, BM25 defaults)', () => {
  // Elasticsearch 8 `_search?explain` for {"match": {"quote": "the"}} over five movie quotes,
  // published by Opster ("Elasticsearch Explain API"): top hit "The Incredibles" scores
  // 0.94581884. Elasticsearch reports Lucene's score times (k1 + 1) = 2.2 ("boost 2.2").
  // n = 2, N = 5, dl = 9, avgdl = 55 / 5 = 11, freq = 1.
  const quotes = [
    'Never look back, darling. It distracts from the now',
    'Oh yes, the past can hurt. But, you can either run from it or learn from it',
    'To infinity and beyond',
    'You must not let anyone define your limits because of where you come from',
    'Ohana means family, family means nobody gets left behind. Or forgotten',
  ];
  const idx = new MemTextIndex(createAnalyzer(NONE));
  quotes.forEach((q, row) => idx.add(row, q));
  assert.deepEqual(idx.stats(), { docCount: 5, sumTotalTermFreq: 55 });
  const scores = scoreView(idx, createAnalyzer(NONE)('the'), combineStats([idx]), { k1: 1.2, b: 0.75 });
  assert.deepEqual([...scores.keys()].sort(), [0, 1]);
  assert.ok(Math.abs(scores.get(0)! * 2.2 - 0.94581884) < 1e-6, String(scores.get(0)! * 2.2));
  assert.ok(scores.get(0)! > scores.get(1)!);
});
