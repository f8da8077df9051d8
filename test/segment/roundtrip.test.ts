import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttributeValue } from '../../src/schema/types.ts';
import {
  buildSegment, mergeInputs, readSegmentMeta, SEGMENT_TRAILER_BYTES, SegmentCorruptError, segmentTailLength, type SegmentReader,
} from '../../src/segment/index.ts';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import type { TextIndexView } from '../../src/segment/text/index-view.ts';
import { openBytes, randomInput, withoutNulls } from './helpers.ts';

test('every id, attribute and vector round-trips through the bytes', async () => {
  const input = randomInput({ rows: 600, dim: 8, metric: 'cosine', seed: 1 });
  const { bytes, meta } = await buildSegment(input);
  assert.equal(meta.rows, 600);
  assert.equal(meta.bytes, bytes.length);
  const seen: string[] = [];
  const reader = await openBytes(bytes, input.schema, seen);
  // A text format 2 section is read by range: its start (header, term index) and its end (norms).
  const expected = Object.keys(meta.sections).flatMap((n) => (n.startsWith('text:') ? [n, n] : [n]));
  assert.deepEqual([...seen].sort(), expected.sort(), 'open fetches each section once, text sections\' two ends');
  assert.equal(reader.rows, 600);

  for (let row = 0; row < 600; row++) {
    const id = input.ids[row]!;
    assert.equal(reader.id(row), id);
    assert.equal(reader.rowOfId(id), row);
    assert.deepEqual(reader.attributes(row), withoutNulls(input.attributes[row]!), `row ${row}`);
    const off = reader.vectorOffset(row);
    if (input.hasVector[row] === 1) {
      assert.equal(off, row * 8);
      const want = input.vectors.subarray(row * 8, row * 8 + 8);
      assert.deepEqual(reader.vectorData().subarray(off, off + 8), want);
      assert.equal(reader.vectorNorm(row), Math.fround(Math.hypot(...want)));
    } else {
      assert.equal(off, -1);
      assert.equal(reader.vectorNorm(row), 0);
    }
  }
  for (const absent of [3n, 1n << 60n, (1n << 64n) - 2n, 'doc-x', 'ü', '', 'zzz']) {
    assert.equal(reader.rowOfId(absent), undefined, String(absent));
  }
  assert.equal(reader.rowOfId((1n << 64n) - 1n), 2);
  reader.close();
});

test('an empty segment and a segment without vectors round-trip', async () => {
  for (const rows of [0, 5]) {
    const input = randomInput({ rows, dim: 4, metric: 'l2', seed: 2, vectorShare: 0 });
    const { bytes, meta } = await buildSegment(input);
    assert.equal(meta.sections.hnsw, undefined);
    const reader = await openBytes(bytes, input.schema);
    assert.equal(reader.rows, rows);
    assert.deepEqual(reader.searchVector(new Float32Array(4), 10, 64), { rows: [], distances: [] });
    for (let row = 0; row < rows; row++) assert.deepEqual(reader.attributes(row), withoutNulls(input.attributes[row]!));
  }
});

test('column stats: min, max and hasNull over non-null values and array elements', async () => {
  const input = randomInput({ rows: 400, dim: 4, metric: 'dot', seed: 3 });
  const { meta } = await buildSegment(input);
  for (const [name, attr] of Object.entries(input.schema.attributes)) {
    const values: Array<number | string> = [];
    let hasNull = false;
    for (const a of input.attributes) {
      const v: AttributeValue | undefined = a[name];
      if (v === null || v === undefined) hasNull = true;
      else if (Array.isArray(v)) values.push(...v);
      else values.push(typeof v === 'boolean' ? Number(v) : v);
    }
    if (values.length === 0) {
      assert.equal(meta.columns[name], null, `${name} (${attr.type}) holds no values`);
      continue;
    }
    const min = values.reduce((m, v) => (v < m ? v : m));
    const max = values.reduce((m, v) => (v > m ? v : m));
    assert.deepEqual(meta.columns[name], { min, max, hasNull }, name);
  }
  assert.deepEqual(meta.columns.flag, { min: 0, max: 1, hasNull: true });
  assert.equal(meta.columns.empty, null);
});

test('a flipped byte in any section is reported by name when the section is read', async () => {
  const input = randomInput({ rows: 200, dim: 4, metric: 'cosine', seed: 4 });
  const { bytes, meta } = await buildSegment(input);
  assert.ok(Object.keys(meta.sections).length >= 12);
  // Text sections are read by part: a query's terms (here every term) and the lengths.
  const readAll = async (reader: SegmentReader) => {
    for (const field of Object.keys(meta.text)) {
      const analyze = createAnalyzer(input.schema.attributes[field]!.full_text!);
      const terms = input.attributes.flatMap((a) => [a[field] ?? []].flat().flatMap((v) => analyze(String(v))));
      const view: TextIndexView = reader.textView(field, new Uint8Array(reader.rows).fill(1))!;
      await view.withTerms?.(terms);
      await reader.exactLength(field, 0);
    }
  };
  for (const [name, s] of Object.entries(meta.sections)) {
    const bad = Buffer.from(bytes);
    bad[s.offset + Math.floor(s.length / 2)]! ^= 0x10;
    await assert.rejects(openBytes(bad, input.schema).then(readAll), (e: unknown) => {
      assert.ok(e instanceof SegmentCorruptError, String(e));
      assert.equal(e.section, name);
      assert.match(e.message, /CRC mismatch/);
      return true;
    });
  }
  const tableEnd = bytes.length - SEGMENT_TRAILER_BYTES;
  const badTable = Buffer.from(bytes);
  badTable[tableEnd - 5]! ^= 0x01;
  assert.throws(() => readSegmentMeta(badTable), /table CRC mismatch/);
});

test('a truncated object fails readSegmentMeta', async () => {
  const input = randomInput({ rows: 50, dim: 4, metric: 'cosine', seed: 5 });
  const { bytes } = await buildSegment(input);
  for (const cut of [1, 6, 16, 100, bytes.length - 10]) {
    assert.throws(() => readSegmentMeta(bytes.subarray(0, bytes.length - cut)), SegmentCorruptError, `cut ${cut}`);
  }
  assert.throws(() => readSegmentMeta(bytes, bytes.length + 1), /object is \d+ bytes/);
  // Too short a tail: segmentTailLength says how much is needed.
  const need = segmentTailLength(bytes.subarray(bytes.length - SEGMENT_TRAILER_BYTES));
  assert.throws(() => readSegmentMeta(bytes.subarray(bytes.length - need + 1)), /segmentTailLength/);
  assert.equal(readSegmentMeta(bytes.subarray(bytes.length - need)).rows, 50);
});

test('mergeInputs concatenates the live rows of several segments in order', async () => {
  const a = randomInput({ rows: 120, dim: 6, metric: 'l2', seed: 6 });
  const b = randomInput({ rows: 80, dim: 6, metric: 'l2', seed: 7 });
  b.ids = b.ids.map((id) => (typeof id === 'bigint' ? (id + 1_000_000n) % (1n << 64n) : `b-${id}`));
  const ra = await openBytes((await buildSegment(a)).bytes, a.schema);
  const rb = await openBytes((await buildSegment(b)).bytes, b.schema);
  const liveA = new Uint8Array(120).map((_, i) => (i % 3 === 0 ? 0 : 1));
  const liveB = new Uint8Array(80).map((_, i) => (i % 5 === 1 ? 0 : 1));
  const merged = mergeInputs([{ reader: ra, live: liveA }, { reader: rb, live: liveB }], a.hnsw);
  const expected: number[][] = [];
  for (let r = 0; r < 120; r++) if (liveA[r]) expected.push([0, r]);
  for (let r = 0; r < 80; r++) if (liveB[r]) expected.push([1, r]);
  assert.equal(merged.ids.length, expected.length);
  const reader = await openBytes((await buildSegment(merged)).bytes, merged.schema);
  expected.forEach(([src, r], row) => {
    const input = src === 0 ? a : b;
    assert.equal(reader.id(row), input.ids[r!]);
    assert.deepEqual(reader.attributes(row), withoutNulls(input.attributes[r!]!));
    const off = reader.vectorOffset(row);
    assert.equal(off >= 0, input.hasVector[r!] === 1);
    if (off >= 0) assert.deepEqual(reader.vectorData().subarray(off, off + 6), input.vectors.subarray(r! * 6, r! * 6 + 6));
  });
});

test('invalid input is refused with the row and attribute named', async () => {
  const input = randomInput({ rows: 10, dim: 4, metric: 'cosine', seed: 8 });
  await assert.rejects(buildSegment({ ...input, ids: input.ids.map(() => 7n) }), /duplicate id 7/);
  const attributes = input.attributes.map((a) => ({ ...a }));
  attributes[3]!.count = 'seven';
  await assert.rejects(buildSegment({ ...input, attributes }), /row 3: attribute 'count' is integer/);
  await assert.rejects(buildSegment({ ...input, attributes: [{ nope: 1 }, ...input.attributes.slice(1)] }),
    /row 0: attribute 'nope' is not in the namespace schema/);
});
