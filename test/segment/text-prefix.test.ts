// Prefix expansion (a query's last token typed as a prefix) over text format 2 read by range: the
// same terms as format 1 answers for the same rows, in dictionary order, up to max, without the
// terms only dead rows have, whichever dictionary blocks the matches span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import { DICT_BLOCK_TERMS, encodeBlockTextField } from '../../src/segment/text/block-index.ts';
import { BlockTextIndex, loadedSection, type TextSectionBytes } from '../../src/segment/text/block-reader.ts';
import { DiskTextIndex, encodeTextField } from '../../src/segment/text/disk-index.ts';
import { MemTextIndex } from '../../src/segment/text/mem-index.ts';
import { PLAIN } from './helpers.ts';

const analyze = createAnalyzer(PLAIN);
// A row per two-letter stem with its ten suffixes ("aa0" … "zz9": 6760 terms over more than 100
// dictionary blocks), plus terms whose UTF-8 bytes sort past ASCII.
const stems = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26)));
const rows = stems.map((s, i) => Array.from({ length: 10 }, (_, j) => `${s}${j}`).join(' ') + ` ${s}${i % 10}`);
rows.push('éclair écume', 'zzz zzzz', 'ab');
const values = rows.map((body) => body);

function indexes() {
  const v1 = new DiskTextIndex(encodeTextField(analyze, values).bytes, 'body');
  return { v1, bytes: encodeBlockTextField(analyze, values).bytes };
}

// 'ag' matches terms 61 to 71, across the first block boundary (64 terms a block).
const prefixes = ['ag', 'a', 'ab', 'ab1', 'ac', 'b', 'mn', 'm', 'zz', 'zzz', 'é', 'éc', 'q', '0', 'aa', 'zz9', 'abc', '{', 'ǅ'];

test('format 2 expands a prefix to the terms format 1 does, for any max, every row live', async () => {
  const { v1, bytes } = indexes();
  const v2 = await BlockTextIndex.open(loadedSection(bytes), 'body');
  assert.ok(v2.termCount > 20 * DICT_BLOCK_TERMS, 'the vocabulary spans many dictionary blocks');
  const live = new Uint8Array(rows.length).fill(1);
  for (const prefix of prefixes) {
    for (const max of [1, 5, 64, 100, 10_000]) {
      const want = v1.view(live).termsWithPrefix(prefix, max);
      assert.deepEqual(await v2.view(live).termsWithPrefix(prefix, max), want, `prefix '${prefix}', max ${max}`);
    }
  }
  for (const stem of stems) assert.deepEqual(await v2.view(live).termsWithPrefix(stem, 64), v1.view(live).termsWithPrefix(stem, 64), stem);
  // 'a' matches 261 terms (over five blocks): all of them in dictionary order, or max of them.
  const all = await v2.view(live).termsWithPrefix('a', 10_000);
  assert.equal(all.length, 261);
  assert.deepEqual(all, [...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  assert.deepEqual(await v2.view(live).termsWithPrefix('a', 100), all.slice(0, 100));
});

test('format 2 skips terms only dead rows have, as format 1 does', async () => {
  const { v1, bytes } = indexes();
  const v2 = await BlockTextIndex.open(loadedSection(bytes), 'body');
  // Every third row dead, and every row with a stem starting in "m".
  const live = Uint8Array.from(rows, (r, i) => (i % 3 === 0 || r.startsWith('m') ? 0 : 1));
  for (const prefix of prefixes) {
    for (const max of [1, 5, 64, 10_000]) {
      assert.deepEqual(await v2.view(live).termsWithPrefix(prefix, max), v1.view(live).termsWithPrefix(prefix, max), `prefix '${prefix}', max ${max}`);
    }
  }
  assert.deepEqual(await v2.view(live).termsWithPrefix('m', 10_000), []);
});

test('a prefix reads only the dictionary blocks that can hold its first max terms, in one round', async () => {
  const { bytes } = indexes();
  const reads: Array<{ offset: number; length: number }> = [];
  let pending = 0;
  let concurrent = 0;
  const counted: TextSectionBytes = {
    verified: false, length: bytes.byteLength,
    read: async (offset, length) => {
      reads.push({ offset, length });
      concurrent = Math.max(concurrent, ++pending);
      await new Promise((r) => setImmediate(r));
      pending--;
      return bytes.subarray(offset, offset + length);
    },
  };
  const v2 = await BlockTextIndex.open(counted, 'body', { rows: rows.length });
  const live = new Uint8Array(rows.length).fill(1);
  reads.length = 0;
  concurrent = 0;
  // 'ab' matches 10 terms inside one block, or across two: at most two dictionary blocks.
  assert.equal((await v2.view(live).termsWithPrefix('ab', 64)).length, 11);
  assert.ok(reads.length >= 1 && reads.length <= 2, `${reads.length} reads`);
  reads.length = 0;
  concurrent = 0;
  // 'a' matches 261 terms; 64 of them take at most two blocks past the first: one round of three.
  assert.equal((await v2.view(live).termsWithPrefix('a', 64)).length, 64);
  assert.ok(reads.length <= 3, `${reads.length} reads`);
  assert.equal(concurrent, reads.length, 'the blocks are read in parallel');
});

test('a prefix whose matches begin a dictionary block gets its max terms from the blocks after', async () => {
  // Block 0 holds "j00" … "j63" only: a prefix "k" starts at block 0, which holds none of its terms.
  const vocab = [...Array.from({ length: DICT_BLOCK_TERMS }, (_, i) => `j${String(i).padStart(2, '0')}`), ...Array.from({ length: 200 }, (_, i) => `k${String(i).padStart(3, '0')}`)];
  const docs = vocab.map((t) => `${t} zz`); // "zz" sorts last: block 0 stays "j…" only
  const v1 = new DiskTextIndex(encodeTextField(analyze, docs).bytes, 'body');
  const v2 = await BlockTextIndex.open(loadedSection(encodeBlockTextField(analyze, docs).bytes), 'body');
  const live = new Uint8Array(docs.length).fill(1);
  for (const max of [1, 63, 64, 65, 128, 129, 200, 1000]) {
    const got = await v2.view(live).termsWithPrefix('k', max);
    assert.equal(got.length, Math.min(max, 200), `max ${max}`);
    assert.deepEqual(got, v1.view(live).termsWithPrefix('k', max), `max ${max}`);
  }
});

test('the tail (rows written in reverse) expands a prefix to the terms a segment does, in the same order', () => {
  const v1 = new DiskTextIndex(encodeTextField(analyze, [...values, '\u{1F600}x \uFFFDx']).bytes, 'body');
  const tail = new MemTextIndex(analyze);
  // Reverse write order, and a pair whose UTF-16 order is not their UTF-8 (dictionary) order.
  tail.add(values.length, '\u{1F600}x \uFFFDx');
  for (let r = values.length - 1; r >= 0; r--) tail.add(r, values[r]!);
  const live = new Uint8Array(values.length + 1).fill(1);
  for (const prefix of [...prefixes, '']) {
    for (const max of [1, 5, 64, 10_000]) {
      assert.deepEqual(tail.termsWithPrefix(prefix, max), v1.view(live).termsWithPrefix(prefix, max), `prefix '${prefix}', max ${max}`);
    }
  }
});
