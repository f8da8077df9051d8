import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FullTextOptions } from '../../../src/schema/types.ts';
import { createAnalyzer } from '../../../src/segment/text/analyzer.ts';
import { bitWidth, pack, packedWords, unpack } from '../../../src/segment/text/bitpack.ts';
import { BLOCK_SIZE, encodePostings, NO_MORE_ROWS, PostingsCursor } from '../../../src/segment/text/block-postings.ts';
import { DICT_BLOCK_TERMS, encodeBlockTextField } from '../../../src/segment/text/block-index.ts';
import { MemoryCache } from '../../../src/cache/memory-cache.ts';
import { BlockTextIndex, loadedSection, type TextPart, type TextSectionBytes } from '../../../src/segment/text/block-reader.ts';
import { invertField } from '../../../src/segment/text/disk-index.ts';
import { rng } from '../../support/rng.ts';

const PLAIN: FullTextOptions = {
  language: 'none', stemming: false, remove_stopwords: false, case_sensitive: false, k1: 1.2, b: 0.75,
};

test('bit-packing round-trips every width from 0 to 32 bits and every count up to a block', () => {
  const rand = rng(1);
  for (let bits = 0; bits <= 32; bits++) {
    for (const count of [1, 2, 31, 32, 33, 127, 128]) {
      const values = Uint32Array.from({ length: count }, () => (bits === 0 ? 0 : Math.floor(rand() * 2 ** bits)));
      values[count - 1] = bits === 0 ? 0 : 2 ** bits - 1; // the widest value of that width
      assert.equal(bitWidth(values, 0, count), bits);
      const words = new Uint32Array(packedWords(count, bits) + 2).fill(0xdeadbeef);
      words.fill(0, 1, 1 + packedWords(count, bits));
      pack(values, 0, count, bits, words, 1);
      assert.equal(words[0], 0xdeadbeef, 'nothing written before');
      assert.equal(words[words.length - 1], 0xdeadbeef, 'nothing written after');
      const out = new Uint32Array(count);
      unpack(words, 1, count, bits, out);
      assert.deepEqual(out, values, `${bits} bits × ${count}`);
    }
  }
});

/** rows ascending from `rand`, gaps up to maxGap, with tfs up to maxTf. */
function postings(rand: () => number, n: number, maxGap: number, maxTf: number) {
  const rows = new Uint32Array(n);
  const tfs = new Uint32Array(n);
  let row = -1;
  for (let i = 0; i < n; i++) {
    row += 1 + Math.floor(rand() * maxGap);
    rows[i] = row;
    tfs[i] = 1 + Math.floor(rand() * maxTf);
  }
  return { rows, tfs };
}

test('postings round-trip through blocks: 1 row, exactly 128, 129, several blocks, huge tf and rows', () => {
  const rand = rng(2);
  const cases = [
    { name: '1 posting', ...postings(rand, 1, 5, 3) },
    { name: 'exactly one block', ...postings(rand, BLOCK_SIZE, 3, 3) },
    { name: 'one block and one row', ...postings(rand, BLOCK_SIZE + 1, 3, 3) },
    { name: 'dense rows (gap 0), tf 1', rows: Uint32Array.from({ length: 300 }, (_, i) => i), tfs: new Uint32Array(300).fill(1) },
    { name: 'many blocks, wide gaps', ...postings(rand, 5 * BLOCK_SIZE + 17, 100_000, 1000) },
    { name: 'huge tf and the last u32 rows', rows: Uint32Array.from([0, 2 ** 31, 2 ** 32 - 2]), tfs: Uint32Array.from([2 ** 32 - 1, 1, 2 ** 31]) },
  ];
  for (const c of cases) {
    const maxRow = c.rows[c.rows.length - 1]!;
    // Norms indexed by row: a sparse stand-in, since rows may reach 2^32 − 2.
    const normOf = (row: number) => (row * 7 + 3) % 256;
    const norms = new Proxy(new Uint8Array(0), { get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) ? normOf(Number(k)) : Reflect.get(t, k)) });
    const words = encodePostings(c.rows, c.tfs, norms, 0, c.rows.length);
    const cursor = new PostingsCursor(words, c.rows.length);
    assert.equal(cursor.blocks, Math.ceil(c.rows.length / BLOCK_SIZE), c.name);
    const all = cursor.decodeAll();
    assert.deepEqual(all.rows, c.rows, `${c.name}: rows`);
    assert.deepEqual(all.tfs, c.tfs, `${c.name}: tfs`);
    for (let b = 0; b < cursor.blocks; b++) {
      const part = { from: b * BLOCK_SIZE, to: Math.min(c.rows.length, (b + 1) * BLOCK_SIZE) };
      const rows = [...c.rows.subarray(part.from, part.to)];
      assert.equal(cursor.lastRow(b), rows[rows.length - 1], `${c.name}: last row of block ${b}`);
      assert.equal(cursor.maxTf(b), Math.max(...c.tfs.subarray(part.from, part.to)), `${c.name}: max tf of block ${b}`);
      assert.equal(cursor.minNorm(b), Math.min(...rows.map(normOf)), `${c.name}: min norm of block ${b}`);
    }
    // next() walks every posting in order.
    const walked: number[] = [];
    const tfs: number[] = [];
    for (let row = cursor.advance(0); row !== NO_MORE_ROWS; row = cursor.next()) {
      walked.push(row);
      tfs.push(cursor.tf());
    }
    assert.deepEqual(walked, [...c.rows], `${c.name}: next`);
    assert.deepEqual(tfs, [...c.tfs], `${c.name}: tf`);
    assert.ok(maxRow < NO_MORE_ROWS);
  }
});

test('advance lands on the first row at or after each target, across and inside blocks', () => {
  const rand = rng(3);
  const { rows, tfs } = postings(rand, 1000, 20, 5);
  const norms = new Uint8Array(rows[rows.length - 1]! + 1);
  const words = encodePostings(rows, tfs, norms, 0, rows.length);
  for (let trial = 0; trial < 50; trial++) {
    const cursor = new PostingsCursor(words, rows.length);
    let target = 0;
    while (target <= rows[rows.length - 1]! + 10) {
      if (rand() < 0.3) cursor.shallowAdvance(target); // skipping blocks must not lose rows
      const want = rows.find((r) => r >= target) ?? NO_MORE_ROWS;
      assert.ok(cursor.lowerBound() <= want, 'lowerBound never passes the next row');
      const got = cursor.advance(target);
      assert.equal(got, want, `advance(${target})`);
      if (got !== NO_MORE_ROWS) assert.equal(cursor.tf(), tfs[rows.indexOf(got)]);
      target = (got === NO_MORE_ROWS ? target : got) + Math.floor(rand() * 300);
    }
  }
});

/** A section source that counts what is read, as the storage wrapper will; unverified, as ranged reads are. */
function counting(bytes: Uint8Array): TextSectionBytes & { reads: Array<[number, number]> } {
  const inner = loadedSection(bytes);
  const reads: Array<[number, number]> = [];
  return { reads, verified: false, length: inner.length, read: (offset, length) => (reads.push([offset, length]), inner.read(offset, length)) };
}

test('a field with many terms: every term is found with its postings, absent terms are not', async () => {
  const analyze = createAnalyzer(PLAIN);
  const rand = rng(4);
  // 5,000 distinct terms (many dictionary blocks, some exactly full) over 3,000 rows, with
  // empty and missing values and an array value.
  const vocab = Array.from({ length: 5000 }, (_, i) => `t${i.toString(36)}${i % 7 === 0 ? 'é' : ''}`);
  const values = Array.from({ length: 3000 }, (_, row) => {
    if (row % 97 === 0) return undefined;
    if (row % 89 === 0) return '';
    const words = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => vocab[Math.floor(rand() ** 2 * vocab.length)]!);
    return row % 5 === 0 ? [words.join(' '), 'tail'] : words.join(' ');
  });
  const inverted = invertField(analyze, values);
  const { bytes, stats } = encodeBlockTextField(analyze, values);
  assert.deepEqual(stats, inverted.stats);
  const index = await BlockTextIndex.open(loadedSection(bytes), 'text:body');
  assert.equal(index.rows, 3000);
  assert.equal(index.termCount, inverted.terms.length);
  assert.ok(index.termCount > 20 * DICT_BLOCK_TERMS);
  assert.deepEqual(index.norms, inverted.norms);
  assert.deepEqual(await index.loadLengths(), inverted.lengths);
  for (const [t, key] of inverted.terms.entries()) {
    const entry = await index.lookup(key.toString('utf8'));
    assert.ok(entry, `term ${key.toString('utf8')}`);
    const a = inverted.postingStarts[t]!;
    const b = inverted.postingStarts[t + 1]!;
    assert.equal(entry.docFreq, b - a);
    const got = new PostingsCursor(await index.postings(entry), entry.docFreq).decodeAll();
    assert.deepEqual(got.rows, inverted.postingRows.subarray(a, b));
    assert.deepEqual(got.tfs, inverted.postingTfs.subarray(a, b));
  }
  for (const absent of ['', '0', 'a', 't', 'tzzzz', 'zzz', 't1 ', '\u{10FFFF}']) assert.equal(await index.lookup(absent), null, absent);
});

test('a lookup reads one dictionary block, then only its own postings', async () => {
  const analyze = createAnalyzer(PLAIN);
  const rand = rng(5);
  const values = Array.from({ length: 20_000 }, () => Array.from({ length: 20 }, () => `w${Math.floor(rand() * 3000)}`).join(' '));
  const { bytes } = encodeBlockTextField(analyze, values);
  const source = counting(bytes);
  const index = await BlockTextIndex.open(source, 'text:body', { rows: values.length, cache: new MemoryCache<TextPart>(1 << 20) });
  const opened = source.reads.reduce((n, [, len]) => n + len, 0);
  // At open, in one round: the section's first 64 KiB (header and term index) and its end (the
  // norms, one byte a row).
  assert.equal(source.reads.length, 2);
  assert.ok(opened <= 65_536 + 20_000 + 8, `open read ${opened} bytes`);
  assert.ok(opened < bytes.byteLength / 4, `open read ${opened} of ${bytes.byteLength} bytes`);
  source.reads.length = 0;
  const entry = (await index.lookup('w1234'))!;
  assert.equal(source.reads.length, 1, 'one dictionary block');
  assert.ok(source.reads[0]![1] <= DICT_BLOCK_TERMS * 16 + DICT_BLOCK_TERMS * 8 + 16);
  source.reads.length = 0;
  const cursor = new PostingsCursor(await index.postings(entry), entry.docFreq);
  assert.deepEqual(source.reads, [[source.reads[0]![0], (entry.wordEnd - entry.wordStart) * 4]], 'one range: the postings');
  assert.ok(source.reads[0]![1] < bytes.byteLength / 1000);
  assert.equal(cursor.decodeAll().rows.length, entry.docFreq);
  // Compressed: a posting costs well under the 8 bytes of text format 1.
  const postings = values.length * 20;
  assert.ok(bytes.byteLength < postings * 3, `${bytes.byteLength} bytes for ≤ ${postings} postings`);
});

test('read by range, a corrupt postings range or dictionary block fails its own CRC, naming the section', async () => {
  const analyze = createAnalyzer(PLAIN);
  const values = Array.from({ length: 2000 }, (_, row) => `common w${row % 300} r${row % 7}`);
  const { bytes } = encodeBlockTextField(analyze, values);
  const header = new Uint32Array(bytes.buffer, bytes.byteOffset, 16);
  const entry = (await (await BlockTextIndex.open(loadedSection(bytes), 'text:body')).lookup('w123'))!;

  const badPostings = Buffer.from(bytes);
  badPostings[header[7]! + entry.wordStart * 4 + 4]! ^= 0x10;
  const ranged = await BlockTextIndex.open(loadedSection(badPostings, false), 'text:body');
  await assert.rejects(ranged.postings((await ranged.lookup('w123'))!), (e: Error) => e.name === 'SegmentCorruptError' && /'text:body'.*postings CRC mismatch/.test(e.message));
  const other = (await ranged.lookup('w124'))!;
  assert.equal(new PostingsCursor(await ranged.postings(other), other.docFreq).decodeAll().rows.length, entry.docFreq, 'other terms still read');

  const badDictionary = Buffer.from(bytes);
  badDictionary[header[5]! + 8]! ^= 0x01; // the first dictionary block, where "common" is
  const ranged2 = await BlockTextIndex.open(loadedSection(badDictionary, false), 'text:body');
  await assert.rejects(ranged2.lookup('common'), /'text:body'.*dictionary CRC mismatch/);
  assert.ok(await ranged2.lookup('w99'), 'other dictionary blocks still read');
});
