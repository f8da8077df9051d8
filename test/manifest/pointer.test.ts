// The manifest pointer carries the version it names and its IVF segments' routes (centroids,
// codes offsets), so a cold first query reads the manifest in one GET and its probed codes with
// the segment's open: 3 sequential round trips. Pointers written before (only the version
// number) still open, and a commit on top of one writes the new form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ByteRange, GetOptions, ListOptions, ObjectStore, PutCondition } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { ManifestStore, pointerRoutes } from '../../src/manifest/manifest.ts';
import { manifestPointerKey, manifestVersionKey } from '../../src/storage/layout.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { parseQuery } from '../../src/query/request.ts';
import type { Document } from '../../src/schema/types.ts';
import { TracingObjectStore } from '../../bench/lib/trace-store.ts';
import { ViewCatalog } from '../../src/cluster/view.ts';
import { MemoryCache } from '../../src/cache/index.ts';
import type { SegmentReader } from '../../src/segment/index.ts';
import { rng, TEST_BUILDS, TEST_INDEXING, testApp } from '../support/app.ts';
import { RecordingStore } from '../support/recording-store.ts';

const DIM = 4;
const schema = parseNamespaceSchema({ vector_dim: DIM, attributes: { n: { type: 'integer' } } });
const random = rng(11);
const docs: Document[] = Array.from({ length: 400 }, (_, i) => ({
  id: BigInt(i), vector: Float32Array.from({ length: DIM }, () => random()), attributes: { n: i },
}));
const VERSION = /\/manifest\/\d{20}\.json$/;

/**
 * Every request takes LATENCY_MS, as on S3: requests that do not wait for each other overlap,
 * so the trace's depth is the chain a reader waits for, not an artifact of an instant store.
 */
const LATENCY_MS = 40;
const later = <T>(f: () => Promise<T>) => new Promise<void>((r) => setTimeout(r, LATENCY_MS)).then(f);
const slow = (inner: ObjectStore): ObjectStore => ({
  get: (key: string, range?: ByteRange, options?: GetOptions) => later(() => inner.get(key, range, options)),
  head: (key: string) => later(() => inner.head(key)),
  put: (key: string, body: Uint8Array, condition?: PutCondition) => later(() => inner.put(key, body, condition)),
  list: (prefix: string, options?: ListOptions) => later(() => inner.list(prefix, options)),
  delete: (key: string) => later(() => inner.delete(key)),
});

const catalogOver = (store: ObjectStore) => new NamespaceCatalog({
  store, maxBatchBytes: 1 << 20, indexing: { ...TEST_INDEXING, ivf_min_rows: 100 }, tmpDir: tmpdir(), builds: TEST_BUILDS,
});

/** An IVF segment of 400 rows and three writes in the WAL tail. */
async function seeded(store: ObjectStore): Promise<void> {
  const catalog = catalogOver(store);
  await catalog.create('p', schema);
  const ns = await catalog.get('p');
  await ns.write({ kind: 'upsert', docs });
  await flushTail(ns);
  assert.ok(ns.segments.every((s) => s.reader.hasIvf), 'the segment is IVF');
  for (const id of [1000, 1001, 1002]) {
    await ns.write({ kind: 'upsert', docs: [{ id: BigInt(id), vector: new Float32Array(DIM).fill(id), attributes: { n: id } }] });
  }
  await catalog.close(new Error('seeded'));
}

/**
 * A fresh process's first query: namespace open (manifest, segment, WAL tail) and one kNN, the
 * query handed to the open as the read routes do (`hinted`) or not.
 */
async function coldQuery(store: ObjectStore, hinted = true, q = 7, nprobe?: number) {
  const trace = new TracingObjectStore(slow(store));
  const catalog = catalogOver(trace);
  const vector = docs[q]!.vector!;
  const knob = nprobe === undefined ? {} : { nprobe };
  const ns = await catalog.get('p', hinted ? { vector, ...knob } : undefined);
  const hits = await ns.query(parseQuery({ vector: Array.from(vector), top_k: 10, ...knob }, ns.schema, ns.name, { default_top_k: 10, max_top_k: 100 }));
  await catalog.close(new Error('done'));
  return { trace, hits };
}

test('a cold first query needs 3 sequential round trips: pointer, open with the probed codes, records', async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  const { trace, hits } = await coldQuery(store);
  assert.equal(hits[0]!.id, 7);
  assert.deepEqual(trace.events.filter((e) => VERSION.test(e.key)).map((e) => e.key), [], 'no manifest version is read');
  // pointer + WAL listing → open (ids, IVF directory, columns) + the probed clusters' codes + WAL objects → candidate records
  assert.equal(trace.sequentialRoundTrips(), 3);
  // Without the query at open: the codes wait for the directory.
  assert.equal((await coldQuery(store, false)).trace.sequentialRoundTrips(), 4);
});

test('a query whose codes were read with the open finds what it finds without', async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  for (const q of [3, 150, 399]) {
    const ids = async (hinted: boolean) => (await coldQuery(store, hinted, q)).hits.map((h) => `${h.id}:${h.score}`);
    assert.deepEqual(await ids(true), await ids(false), `query ${q}`);
  }
});

/** Three IVF segments of 400 rows (no merges: no maintenance runs here), nothing in the tail. */
async function seededThree(store: ObjectStore): Promise<void> {
  const catalog = catalogOver(store);
  await catalog.create('p', schema);
  const ns = await catalog.get('p');
  for (let s = 0; s < 3; s++) {
    await ns.write({ kind: 'upsert', docs: docs.map((d) => ({ ...d, id: BigInt(s * 1000) + (d.id as bigint) })) });
    await flushTail(ns);
  }
  assert.equal(ns.segments.filter((s) => s.reader.hasIvf).length, 3);
  await catalog.close(new Error('seeded'));
}

test('over several IVF segments the open reads the probe chosen across them: still 3 round trips, the same hits, fewer codes read', async () => {
  const store = new MemoryObjectStore();
  await seededThree(store);
  const codesBytes = (trace: TracingObjectStore) => trace.bytesRead();
  for (const q of [7, 250]) {
    // One cluster probed in all: the open must not read one in each segment.
    const hinted = await coldQuery(store, true, q, 1);
    const plain = await coldQuery(store, false, q, 1);
    assert.equal(hinted.trace.sequentialRoundTrips(), 3, `query ${q}: no segment reads codes after its open`);
    assert.deepEqual(hinted.hits.map((h) => `${h.id}:${h.score}`), plain.hits.map((h) => `${h.id}:${h.score}`));
    // Prefetching only the probe across segments reads no more than the query itself does.
    assert.ok(codesBytes(hinted.trace) <= codesBytes(plain.trace), `query ${q}: ${codesBytes(hinted.trace)} bytes with the hint, ${codesBytes(plain.trace)} without`);
  }
});

test('a pointer written before it carried the manifest still opens, and the next commit writes the new form', async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  const pointer = JSON.parse((await store.get(manifestPointerKey('p'))).body.toString('utf8')) as { version: number; created_at: string; commit: string };
  // The old format, byte for byte what earlier releases wrote.
  await store.put(manifestPointerKey('p'), Buffer.from(JSON.stringify({ version: pointer.version, created_at: pointer.created_at, commit: pointer.commit }), 'utf8'));

  const { trace, hits } = await coldQuery(store);
  assert.equal(hits[0]!.id, 7);
  assert.deepEqual(trace.events.filter((e) => VERSION.test(e.key)).map((e) => e.key), [manifestVersionKey('p', pointer.version)]);
  assert.equal(trace.sequentialRoundTrips(), 5, 'pointer → version → open → codes → records');

  const catalog = catalogOver(store);
  const ns = await catalog.get('p');
  assert.ok(await ns.get(1002n), 'the WAL tail is replayed on top of the old pointer');
  await flushTail(ns);
  await catalog.close(new Error('done'));
  const next = await new ManifestStore(store).loadPointer('p');
  assert.equal(next?.version, pointer.version + 1);
  assert.equal(next?.manifest?.version, pointer.version + 1, 'the commit on top of an old pointer writes the manifest into it');
  assert.deepEqual(next?.manifest, await new ManifestStore(store).loadVersion('p', pointer.version + 1), 'the pointer holds the version it names');
  // The 400-row segment is IVF; the 3 rows just flushed are too few for it (ivf_min_rows).
  const ivf = next!.manifest!.segments.filter((r) => Object.hasOwn(r.meta.sections, 'ivf.codes')).map((r) => r.id);
  assert.equal(ivf.length, 1);
  assert.deepEqual(Object.keys(next?.routes ?? {}), ivf, 'and the routes of its IVF segments, also those opened from the old pointer');
});

test('the query route hands its vector to a cold open: 3 round trips over HTTP too', async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  const trace = new TracingObjectStore(slow(store));
  const { app, call } = testApp({ store: trace, indexing: { ivf_min_rows: 100 } });
  try {
    const res = await call('POST', '/v1/namespaces/p/query', { vector: Array.from(docs[9]!.vector!), top_k: 10 });
    assert.equal(res.status, 200);
    assert.equal(res.body.results[0].id, 9);
    assert.equal(trace.sequentialRoundTrips(), 3);
  } finally {
    await app.close();
  }
});

test("a query node's view opens with the query's probe too: 3 round trips, 4 without it", async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  const vector = docs[12]!.vector!;
  const viewQuery = async (hint?: { vector: Float32Array }) => {
    const trace = new TracingObjectStore(slow(store));
    const views = new ViewCatalog({ store: trace, tmpDir: tmpdir(), readers: new MemoryCache<SegmentReader>(1 << 30), defaultEf: TEST_INDEXING.hnsw_ef_search });
    const view = await views.fresh('p', hint);
    const hits = await view.query(parseQuery({ vector: Array.from(vector), top_k: 10 }, view.schema, 'p', { default_top_k: 10, max_top_k: 100 }));
    return { trips: trace.sequentialRoundTrips(), ids: hits.map((h) => h.id) };
  };
  const hinted = await viewQuery({ vector });
  const plain = await viewQuery();
  assert.equal(hinted.ids[0], 12);
  assert.deepEqual(hinted.ids, plain.ids, 'the same hits either way');
  assert.equal(hinted.trips, 3, 'pointer → open with the probed codes → records');
  assert.equal(plain.trips, 4, 'pointer → open → codes → records');
});

test('the pointer carries routes up to its byte cap, the largest segments first', () => {
  const route = (bytes: number) => ({ clusters: 1, dim: 1, centroids: 'x'.repeat(bytes), offsets: '' });
  const ref = (id: string, rows: number) => ({ id, rows }) as Parameters<typeof pointerRoutes>[0][number];
  const all = { small: route(300), big: route(600), mid: route(500) };
  const segments = [ref('small', 10), ref('big', 1000), ref('mid', 100), ref('unrouted', 50)];
  assert.deepEqual(Object.keys(pointerRoutes(segments, all, 1000)).sort(), ['big', 'small']);
  assert.deepEqual(Object.keys(pointerRoutes(segments, all, 2000)).sort(), ['big', 'mid', 'small']);
  assert.deepEqual(Object.keys(pointerRoutes(segments, all, 100)), []);
});

/** A cold open hinted (or not) over `store`, and whether it read the segment's whole `ivf.centroids` section. */
async function readsCentroids(store: ObjectStore, hinted: boolean): Promise<{ read: boolean; ids: string[] }> {
  const recording = new RecordingStore(store);
  const catalog = catalogOver(recording);
  const vector = docs[7]!.vector!;
  const ns = await catalog.get('p', hinted ? { vector } : undefined);
  const hits = await ns.query(parseQuery({ vector: Array.from(vector), top_k: 10 }, ns.schema, ns.name, { default_top_k: 10, max_top_k: 100 }));
  const ref = ns.loaded.manifest.segments[0]!;
  const entry = ref.meta.sections['ivf.centroids'];
  assert.ok(entry !== undefined, 'the segment keeps its centroids apart from the directory');
  await catalog.close(new Error('done'));
  return { read: recording.gets.some((g) => g.key === ref.key && g.offset === entry.offset && g.length === entry.length), ids: hits.map((h) => `${h.id}:${h.score}`) };
}

test("a cold open takes the centroids from the pointer's route when their CRC is the section's; otherwise it reads ivf.centroids", async () => {
  const store = new MemoryObjectStore();
  await seeded(store);
  const routed = await readsCentroids(store, true);
  assert.equal(routed.read, false, 'the route carried them');
  const plain = await readsCentroids(store, false);
  assert.equal(plain.read, true, 'without the query at open no route is used');
  assert.deepEqual(routed.ids, plain.ids);
  // A route whose centroids are not the segment's (one byte changed) is not trusted.
  const key = manifestPointerKey('p');
  const pointer = JSON.parse((await store.get(key)).body.toString('utf8')) as { routes: Record<string, { centroids: string }> };
  for (const route of Object.values(pointer.routes)) {
    const bytes = Buffer.from(route.centroids, 'base64');
    bytes[5]! ^= 0x40;
    route.centroids = bytes.toString('base64');
  }
  await store.put(key, Buffer.from(JSON.stringify(pointer)));
  const tampered = await readsCentroids(store, true);
  assert.equal(tampered.read, true, 'a route that fails the CRC is ignored');
  assert.deepEqual(tampered.ids, plain.ids);
});
