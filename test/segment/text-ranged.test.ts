// A segment's text format 2 index read by range through the object store: what open and a query
// read (counted by a storage wrapper), scores against the in-memory index, a tiny memory tier,
// and format 1 sections, which are still loaded whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import { textSearch } from '../../src/query/executor.ts';
import type { ParsedQuery } from '../../src/query/request.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';
import { buildSegment, Sections, SegmentReader, type SegmentMeta } from '../../src/segment/index.ts';
import { assembleSegment } from '../../src/segment/format.ts';
import { LiveSegment } from '../../src/segment/live-segment.ts';
import type { RowSource } from '../../src/segment/row-source.ts';
import { createAnalyzer } from '../../src/segment/text/analyzer.ts';
import { BlockTextIndex, loadedSection, type TextPart } from '../../src/segment/text/block-reader.ts';
import { encodeTextField } from '../../src/segment/text/disk-index.ts';
import { MemTextIndex } from '../../src/segment/text/mem-index.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { RecordingStore } from '../support/recording-store.ts';
import { PLAIN, rng } from './helpers.ts';

const ROWS = 8000;
const KEY = 'ns/seg/s1.seg';
const SCHEMA: NamespaceSchema = { vector_dim: 2, vector_metric: 'l2', attributes: { body: { type: 'string', full_text: PLAIN, filterable: false } } };
const VOCAB = 4000;

/** Zipf-like documents of 10–50 words over VOCAB words, so postings range from one row to most. */
function documents(seed: number): string[] {
  const rand = rng(seed);
  return Array.from({ length: ROWS }, () => Array.from({ length: 10 + Math.floor(rand() * 40) },
    () => `w${Math.floor(VOCAB ** rand())}`).join(' '));
}

async function stored(docs: string[], rewrite?: (bytes: Buffer, meta: SegmentMeta) => { bytes: Buffer; meta: SegmentMeta }) {
  let { bytes, meta } = await buildSegment({
    schema: SCHEMA, ids: docs.map((_, r) => BigInt(r)), vectors: new Float32Array(ROWS * 2), hasVector: new Uint8Array(ROWS).fill(1),
    attributes: docs.map((body) => ({ body })), hnsw: { m: 8, efConstruction: 20 },
  });
  if (rewrite) ({ bytes, meta } = rewrite(bytes, meta));
  const memory = new MemoryObjectStore();
  await memory.put(KEY, bytes);
  return { store: new RecordingStore(memory), meta, bytes };
}

function open(store: ObjectStore, meta: SegmentMeta, textCache = new MemoryCache<TextPart>(16 << 20)) {
  return SegmentReader.open({ meta, schema: SCHEMA, tmpDir: tmpdir(), textCache, readSection: async (_name, range) => (await store.get(KEY, range)).body });
}

function query(text: string, topK = 10): ParsedQuery {
  return {
    vector: null, topK, filter: null, vectorWeight: 1, includeVector: false, includeAttributes: false, ef: null, nprobe: null,
    consistency: 'strong', fullText: { fields: [{ field: 'body', weight: 1 }], query: text, weight: 1 },
  };
}

/** The reference path: the same documents (minus dead rows) in the write tail's in-memory index, scored exhaustively. */
function reference(docs: string[], dead: ReadonlySet<number> = new Set()): RowSource {
  const index = new MemTextIndex(createAnalyzer(PLAIN));
  docs.forEach((d, row) => { if (!dead.has(row)) index.add(row, d); });
  return { rowCount: ROWS, isLive: (row: number) => !dead.has(row), textIndex: () => index } as Partial<RowSource> as RowSource;
}

async function hits(source: RowSource, text: string, topK = 10): Promise<Array<[number, number]>> {
  return (await textSearch(SCHEMA, [source], query(text, topK), topK)).map((h) => [h.row, h.score]);
}

test('open reads the text section\'s start and its norms; a 2-term query only its terms\' dictionary blocks and postings', async () => {
  const docs = documents(1);
  const { store, meta, bytes } = await stored(docs);
  const section = meta.sections[Sections.text('body')]!;
  const inText = (g: { offset: number }) => g.offset >= section.offset && g.offset < section.offset + section.length;
  const reader = await open(store, meta);
  const opened = store.gets.filter(inText);
  assert.equal(opened.length, 2, 'the section\'s start (header, term index) and its end (norms)');
  assert.ok(opened.every((g) => g.length <= 65_536 + ROWS + 8));
  assert.ok(opened.reduce((n, g) => n + g.length, 0) < section.length / 4, `open read a quarter of ${section.length} bytes or more`);

  // Where the two terms' dictionary blocks and postings are, from the section itself.
  const whole = await BlockTextIndex.open(loadedSection(bytes.subarray(section.offset, section.offset + section.length)), 'text:body');
  const header = new Uint32Array(bytes.buffer, bytes.byteOffset + section.offset, 16);
  const terms = ['w3', 'w150'];
  const entries = await Promise.all(terms.map(async (t) => (await whole.lookup(t))!));
  const postingsRanges = entries.map((e) => ({ offset: section.offset + header[7]! + e.wordStart * 4, length: (e.wordEnd - e.wordStart) * 4 }));

  store.gets.length = 0;
  const segment = new LiveSegment('s1', reader, []);
  const got = await hits(segment, terms.join(' '));
  assert.equal(store.gets.length, 4, 'two dictionary blocks, two postings ranges');
  assert.ok(store.gets.every(inText));
  for (const r of postingsRanges) assert.ok(store.gets.some((g) => g.offset === r.offset && g.length === r.length), `postings at ${r.offset}`);
  const read = store.bytes();
  const postings = postingsRanges.reduce((n, r) => n + r.length, 0);
  assert.ok(read - postings <= 2 * 4096, `dictionary blocks: ${read - postings} bytes`);
  assert.ok(read < section.length / 20, `a 2-term query read ${read} of the section's ${section.length} bytes`);
  assert.deepEqual(got, await hits(reference(docs), terms.join(' ')), 'scores identical to the in-memory index');

  store.gets.length = 0;
  assert.deepEqual(await hits(segment, terms.join(' ')), got);
  assert.equal(store.gets.length, 0, 'a repeated query is served from the memory tier');
});

test('scores equal the in-memory index\'s bit for bit, with and without dead rows, read by range', async () => {
  const docs = documents(2);
  const { store, meta } = await stored(docs);
  const reader = await open(store, meta);
  const rand = rng(3);
  const dead = new Set(Array.from({ length: 600 }, () => Math.floor(rand() * ROWS)));
  const cases: Array<[RowSource, RowSource]> = [
    [new LiveSegment('s1', reader, []), reference(docs)],
    [new LiveSegment('s1', reader, dead), reference(docs, dead)],
  ];
  for (const [segment, ref] of cases) {
    for (let i = 0; i < 40; i++) {
      const text = Array.from({ length: 1 + (i % 4) }, () => `w${Math.floor(VOCAB ** rand())}`).join(' ');
      const k = [1, 10, 100][i % 3]!;
      assert.deepEqual(await hits(segment, text, k), await hits(ref, text, k), text);
    }
  }
});

test('under a tiny memory tier parts are evicted and read again, and every query, concurrent ones too, stays correct', async () => {
  const docs = documents(4);
  const { store, meta } = await stored(docs);
  const cache = new MemoryCache<TextPart>(4096);
  const segment = new LiveSegment('s1', await open(store, meta, cache), []);
  const ref = reference(docs);
  const rand = rng(5);
  const texts = Array.from({ length: 30 }, () => `w${Math.floor(VOCAB ** rand())} w${Math.floor(VOCAB ** rand())}`);
  const want = await Promise.all(texts.map((t) => hits(ref, t)));
  for (let pass = 0; pass < 2; pass++) {
    assert.deepEqual(await Promise.all(texts.map((t) => hits(segment, t))), want, `pass ${pass}, concurrent`);
    for (const [i, t] of texts.entries()) assert.deepEqual(await hits(segment, t), want[i], `pass ${pass}: ${t}`);
  }
  const stats = cache.stats();
  assert.ok(stats.evictions > 0, 'parts were evicted');
  assert.ok(stats.bytes <= 4096, `the tier holds ${stats.bytes} bytes`);
  store.gets.length = 0;
  await hits(segment, texts[0]!);
  assert.ok(store.gets.length > 0, 'an evicted part is read again');
});

test('a segment whose text section is in format 1 is still loaded whole and scores the same', async () => {
  const docs = documents(6);
  const { store, meta } = await stored(docs, (bytes, m) => {
    // The same segment, its text section re-encoded in format 1 as segments were written before.
    const name = Sections.text('body');
    const sections = Object.entries(m.sections).sort((a, b) => a[1].offset - b[1].offset)
      .map(([n, e]): [string, Buffer] => [n, n === name
        ? encodeTextField(createAnalyzer(PLAIN), docs).bytes
        : bytes.subarray(e.offset, e.offset + e.length)]);
    const { format: _format, ...stats } = m.text.body!;
    return assembleSegment(sections, { rows: m.rows, dim: m.dim, metric: m.metric, columns: m.columns, text: { body: stats } });
  });
  assert.equal(meta.text.body!.format, undefined);
  const segment = new LiveSegment('s1', await open(store, meta), []);
  const section = meta.sections[Sections.text('body')]!;
  assert.ok(store.gets.some((g) => g.offset === section.offset && g.length === section.length), 'the whole section at open');
  const ref = reference(docs);
  for (const text of ['w1 w2', 'w17 w900', 'w3999 absent']) assert.deepEqual(await hits(segment, text), await hits(ref, text), text);
});
