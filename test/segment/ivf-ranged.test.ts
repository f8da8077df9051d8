import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';
import { buildSegment, readSegmentMeta, residentBytes, SegmentReader, type SegmentMeta } from '../../src/segment/index.ts';
import { IvfDirectory, recordBytes } from '../../src/segment/ivf-directory.ts';
import type { IvfCacheEntry } from '../../src/segment/ivf-reader.ts';
import { CODES_GAP_BYTES, RECORDS_GAP_BYTES } from '../../src/segment/ivf-ranges.ts';
import { RECORD_PAGE_BITS } from '../../src/segment/ivf-records.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { RecordingStore } from '../support/recording-store.ts';
import { rng } from './helpers.ts';

const DIM = 16;
const ROWS = 5000;
const KEY = 'ns/seg/s1/segment';

async function stored(): Promise<{ store: RecordingStore; meta: SegmentMeta; schema: NamespaceSchema; vectors: Float32Array }> {
  const rand = rng(11);
  const schema: NamespaceSchema = { vector_dim: DIM, vector_metric: 'l2', attributes: {} };
  const vectors = new Float32Array(ROWS * DIM).map(() => rand() * 2 - 1);
  const { bytes } = await buildSegment({
    schema,
    ids: Array.from({ length: ROWS }, (_, r) => BigInt(r)),
    vectors,
    hasVector: new Uint8Array(ROWS).fill(1),
    attributes: Array.from({ length: ROWS }, () => ({})),
    hnsw: { m: 16, efConstruction: 100 },
    ivfFrom: 0,
    ivfClusterRows: 100,
  });
  const memory = new MemoryObjectStore();
  await memory.put(KEY, bytes);
  return { store: new RecordingStore(memory), meta: readSegmentMeta(bytes), schema, vectors };
}

function open(store: ObjectStore, meta: SegmentMeta, schema: NamespaceSchema, clusterCache?: MemoryCache<IvfCacheEntry>, recordGapBytes?: number) {
  return SegmentReader.open({
    meta, schema, tmpDir: tmpdir(),
    readSection: async (_name, range) => (await store.get(KEY, range)).body,
    ...(clusterCache ? { clusterCache } : {}),
    ...(recordGapBytes !== undefined ? { recordGapBytes } : {}),
  });
}

/** The reads that fall inside the named section. */
function inSection(meta: SegmentMeta, name: string) {
  const s = meta.sections[name]!;
  return (g: { offset: number }) => g.offset >= s.offset && g.offset < s.offset + s.length;
}

test('an IVF segment opens without codes or vectors; a query reads its probed codes blocks, then only its candidates\' vectors', async () => {
  const { store, meta, schema, vectors } = await stored();
  const codes = inSection(meta, 'ivf.codes');
  const records = inSection(meta, 'ivf.vectors');
  const reader = await open(store, meta, schema, undefined, 0);
  assert.deepEqual(store.gets.filter((g) => codes(g) || records(g)), [], 'nothing of ivf.codes or ivf.vectors is read at open');
  const opened = store.gets.length;
  const q = vectors.slice(0, DIM);
  const nprobe = 16;
  const found = await reader.search(q, 10, 128, undefined, nprobe);
  assert.equal(found.rows[0], 0, 'the query vector itself is nearest');
  const reads = store.gets.slice(opened);
  const codeReads = reads.filter(codes);
  const recordReads = reads.filter(records);
  assert.equal(reads.length, codeReads.length + recordReads.length, 'only codes blocks and vector records are read');
  // Probed blocks next to each other in the section are read together: at most one read per
  // probed cluster, and no more bytes than the probed blocks plus the gaps merged.
  const ivf = meta.sections.ivf!;
  const cs = meta.sections['ivf.centroids']!;
  const centroidBytes = Buffer.from((await store.get(KEY, { offset: cs.offset, length: cs.length })).body);
  const dir = new IvfDirectory(Buffer.from((await store.get(KEY, { offset: ivf.offset, length: ivf.length })).body), 'apart', centroidBytes);
  store.gets.pop(); // the test's own reads
  store.gets.pop();
  const largest = Math.max(...Array.from({ length: dir.clusters }, (_, c) => dir.blockRange(c).length));
  assert.ok(codeReads.length <= nprobe, `${codeReads.length} reads for ${nprobe} probes`);
  const codeBytes = codeReads.reduce((n, g) => n + g.length, 0);
  assert.ok(codeBytes <= nprobe * largest + (nprobe - codeReads.length) * CODES_GAP_BYTES, `${codeBytes} bytes of codes for ${nprobe} of ${dir.clusters} clusters`);
  // 400 candidates are re-ranked (ivf-search.ts): their records, coalesced across small gaps.
  const rb = recordBytes(DIM);
  const candidates = 400;
  assert.ok(recordReads.length <= candidates, `${recordReads.length} record reads`);
  const recordBytesRead = recordReads.reduce((n, g) => n + g.length, 0);
  // Records are read without gaps here (recordGapBytes 0): exactly the candidates' records.
  assert.equal(recordBytesRead, candidates * rb, `${recordBytesRead} bytes of vectors read`);
  assert.ok(recordBytesRead < meta.sections['ivf.vectors']!.length / 2, `${recordBytesRead} bytes of a ${meta.sections['ivf.vectors']!.length}-byte section`);
  assert.ok(recordReads.every((g) => (g.offset - meta.sections['ivf.vectors']!.offset) % rb === 0 && g.length % rb === 0), 'whole records only');

  // The same query again: codes and records come from the memory cache.
  assert.deepEqual(await reader.search(q, 10, 128, undefined, nprobe), found);
  assert.equal(store.gets.length, opened + reads.length, 'a warm query reads nothing');

  // With the default gap, records closer than RECORDS_GAP_BYTES come in one GET: fewer reads,
  // whole records, the same answer.
  const coalescing = await open(store, meta, schema);
  const from = store.gets.length;
  assert.deepEqual(await coalescing.search(q, 10, 128, undefined, nprobe), found);
  const runs = store.gets.slice(from).filter(records);
  assert.ok(runs.length < recordReads.length, `${runs.length} record reads, ${recordReads.length} without gaps`);
  const runBytes = runs.reduce((n, g) => n + g.length, 0);
  assert.ok(runBytes <= candidates * rb + (candidates - runs.length) * RECORDS_GAP_BYTES, `${runBytes} bytes of vectors read`);
  assert.ok(runs.every((g) => (g.offset - meta.sections['ivf.vectors']!.offset) % rb === 0 && g.length % rb === 0), 'whole records only');
  coalescing.close();

  // One row's vector (get, list, include_vector) on a reader of its own: the rows' slots
  // (ivf.rows, which no search reads) once, then one record by range.
  const other = await open(store, meta, schema);
  const before = store.gets.length;
  const one = await other.vectorsOf([4321]);
  assert.deepEqual(store.gets.slice(before).map((g) => g.length), [meta.sections['ivf.rows']!.length, rb], 'ivf.rows, then one ranged read of one record');
  assert.deepEqual(one.data.subarray(one.offset(4321), one.offset(4321) + DIM), vectors.subarray(4321 * DIM, 4322 * DIM));
  const again = store.gets.length;
  const two = await other.vectorsOf([77]);
  assert.deepEqual(store.gets.slice(again).map((g) => g.length), [rb], 'then one record a row');
  assert.deepEqual(two.data.subarray(two.offset(77), two.offset(77) + DIM), vectors.subarray(77 * DIM, 78 * DIM));
  reader.close();
  other.close();
});

test('under a cache smaller than two codes blocks, blocks and records are evicted and read again, and every answer stays the same', async () => {
  const { store, meta, schema, vectors } = await stored();
  const reference = await open(store, meta, schema, new MemoryCache<IvfCacheEntry>(1 << 30));
  const blockBytes = Math.ceil(meta.sections['ivf.codes']!.length / 50);
  const tiny = new MemoryCache<IvfCacheEntry>(blockBytes * 2);
  const reader = await open(store, meta, schema, tiny);
  const rand = rng(12);
  for (let i = 0; i < 25; i++) {
    const q = new Float32Array(DIM).map(() => rand() * 2 - 1);
    const accept = i % 2 === 0 ? undefined : (row: number) => row % 3 !== 0;
    assert.deepEqual(await reader.search(q, 10, 128, accept, 6), await reference.search(q, 10, 128, accept, 6), `query ${i}`);
  }
  const stats = tiny.stats();
  assert.ok(stats.evictions > 0, 'entries were evicted');
  assert.ok(stats.bytes <= stats.max_bytes, `cache holds ${stats.bytes} of at most ${stats.max_bytes} bytes`);
  // Random access still works after the query path: the whole section, once.
  await reader.loadVectors();
  const off = reader.vectorOffset(7);
  assert.deepEqual(reader.vectorData().subarray(off, off + DIM), vectors.subarray(7 * DIM, 8 * DIM));
  reader.close();
  reference.close();
});

test('a corrupt vector record is refused with the section named, not re-ranked', async () => {
  const { meta, schema, vectors } = await stored();
  const memory = new MemoryObjectStore();
  const bytes = Buffer.from((await (await stored()).store.get(KEY)).body);
  const rb = recordBytes(DIM);
  // Flip a byte in every record: whichever rows the query re-ranks, one of them is bad.
  for (let at = meta.sections['ivf.vectors']!.offset; at < meta.sections['ivf.vectors']!.offset + meta.sections['ivf.vectors']!.length; at += rb) bytes[at + 1]! ^= 0xff;
  await memory.put(KEY, bytes);
  const reader = await open(memory, meta, schema);
  await assert.rejects(reader.search(vectors.slice(0, DIM), 10, 128, undefined, 4), /section 'ivf.vectors' is corrupt: record \d+: CRC mismatch/);
  reader.close();
});

test('an open IVF segment is charged what it read at open and its rows\' slots (residentBytes), not the whole object', async () => {
  const { store, meta, schema } = await stored();
  await open(store, meta, schema);
  const readAtOpen = store.gets.reduce((n, g) => n + g.length, 0);
  // ivf.rows is read when a row is first asked for by number, and kept: charged from the open.
  assert.equal(residentBytes(meta), readAtOpen + meta.sections['ivf.rows']!.length);
  assert.ok(residentBytes(meta) < meta.bytes / 2, `${residentBytes(meta)} of a ${meta.bytes}-byte segment`);
});

test('records are cached by page: queries at once read each record once, a page that gains records is charged for them, close forgets them', async () => {
  const { store, meta, schema, vectors } = await stored();
  const records = inSection(meta, 'ivf.vectors');
  const rb = recordBytes(DIM);
  const cache = new MemoryCache<IvfCacheEntry>(1 << 30);
  const reader = await open(store, meta, schema, cache, 0);
  const q = vectors.slice(5 * DIM, 6 * DIM);
  const before = store.gets.length;
  const [a, b] = await Promise.all([reader.search(q, 10, 128, undefined, 16), reader.search(q, 10, 128, undefined, 16)]);
  assert.deepEqual(a, b);
  const read = store.gets.slice(before).filter(records);
  const offsets = read.map((g) => g.offset);
  assert.equal(new Set(offsets).size, offsets.length, 'no record is read twice by the two queries');
  assert.equal(read.reduce((n, g) => n + g.length, 0), 400 * rb, 'the 400 candidates\' records, once');

  // Rows fetched one by one (get, include_vector) land in their pages: a record on a page the
  // cache holds adds exactly its floats, one on a page it does not hold adds a page; neither is
  // read again.
  await reader.vectorsOf([0]); // ivf.rows first
  const dir = reader.ivfDirectory!;
  const heldSlots = new Set(read.flatMap((g) => Array.from({ length: g.length / rb }, (_, i) => (g.offset - meta.sections['ivf.vectors']!.offset) / rb + i)));
  const heldPages = new Set([...heldSlots].map((s) => s >>> RECORD_PAGE_BITS));
  const rows = Array.from({ length: ROWS }, (_, r) => r).filter((r) => r !== 0 && dir.slotOf[0]! >>> RECORD_PAGE_BITS !== dir.slotOf[r]! >>> RECORD_PAGE_BITS && !heldSlots.has(dir.slotOf[r]!));
  const onHeld = rows.filter((r) => heldPages.has(dir.slotOf[r]! >>> RECORD_PAGE_BITS)).slice(0, 3);
  const onNew = rows.filter((r) => !heldPages.has(dir.slotOf[r]! >>> RECORD_PAGE_BITS)).slice(0, 1);
  assert.equal(onHeld.length, 3);
  assert.equal(onNew.length, 1);
  for (const row of [...onHeld, ...onNew]) {
    const bytes = cache.stats().bytes;
    const gets = store.gets.length;
    const got = await reader.vectorsOf([row]);
    assert.deepEqual(got.data.subarray(got.offset(row), got.offset(row) + DIM), vectors.subarray(row * DIM, (row + 1) * DIM));
    assert.equal(store.gets.length, gets + 1, `row ${row}: one ranged read`);
    const grown = cache.stats().bytes - bytes;
    if (onHeld.includes(row)) assert.equal(grown, DIM * 4, `row ${row}, on a held page: its floats`);
    else assert.ok(grown > DIM * 4, `row ${row}, on a new page: its floats and the page, ${grown} bytes`);
    const again = store.gets.length;
    await reader.vectorsOf([row]);
    assert.equal(store.gets.length, again, `row ${row}: held now`);
  }
  const held = cache.stats().entries;
  assert.ok(held > 0);
  reader.close();
  assert.equal(cache.stats().entries, 0, 'close forgets the reader\'s blocks and record pages');
  assert.equal(cache.stats().bytes, 0);
});
