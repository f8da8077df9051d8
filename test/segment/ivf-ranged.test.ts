import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import type { NamespaceSchema } from '../../src/schema/types.ts';
import { buildSegment, readSegmentMeta, SegmentReader, type SegmentMeta } from '../../src/segment/index.ts';
import type { IvfCluster } from '../../src/segment/ivf.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ByteRange, GetOptions, GetResult, ObjectStore } from '../../src/storage/object-store.ts';
import { rng } from './helpers.ts';

const DIM = 16;
const ROWS = 5000;
const KEY = 'ns/seg/s1/segment';

/** A storage wrapper that records every GET with its range. */
class RecordingStore implements ObjectStore {
  readonly gets: Array<{ key: string; offset: number; length: number }> = [];
  constructor(private readonly inner: ObjectStore) {}
  async get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    const r = await this.inner.get(key, range, options);
    const offset = range !== undefined && 'offset' in range ? range.offset : 0;
    this.gets.push({ key, offset, length: r.body.byteLength });
    return r;
  }
  head = (key: string) => this.inner.head(key);
  put = (key: string, body: Uint8Array, c?: Parameters<ObjectStore['put']>[2]) => this.inner.put(key, body, c);
  list = (prefix: string, o?: Parameters<ObjectStore['list']>[1]) => this.inner.list(prefix, o);
  delete = (key: string) => this.inner.delete(key);
}

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

function open(store: ObjectStore, meta: SegmentMeta, schema: NamespaceSchema, clusterCache?: MemoryCache<IvfCluster>) {
  return SegmentReader.open({
    meta, schema, tmpDir: tmpdir(),
    readSection: async (_name, range) => (await store.get(KEY, range)).body,
    ...(clusterCache ? { clusterCache } : {}),
  });
}

test('an IVF segment opens without its cluster blocks; a query reads only the blocks it probes, by range', async () => {
  const { store, meta, schema, vectors } = await stored();
  const reader = await open(store, meta, schema);
  const blocks = meta.sections['ivf.clusters']!;
  const inBlocks = (g: { offset: number }) => g.offset >= blocks.offset && g.offset < blocks.offset + blocks.length;
  assert.deepEqual(store.gets.filter(inBlocks), [], 'nothing of ivf.clusters is read at open');
  // One row's vector (get, list, include_vector): only the block that holds it (on a reader of
  // its own, so that the query below starts from an empty cache).
  const other = await open(store, meta, schema);
  const before = store.gets.length;
  const one = await other.vectorsOf([4321]);
  assert.equal(store.gets.length - before, 1, 'one ranged read for one row');
  assert.deepEqual(one.data.subarray(one.offset(4321), one.offset(4321) + DIM), vectors.subarray(4321 * DIM, 4322 * DIM));
  store.gets.splice(before);

  const opened = store.gets.length;

  const q = vectors.slice(0, DIM);
  const found = await reader.search(q, 10, 128, undefined, 8);
  assert.equal(found.rows[0], 0, 'the query vector itself is nearest');
  const reads = store.gets.slice(opened);
  assert.equal(reads.length, 8, 'one ranged read per probed cluster');
  assert.ok(reads.every(inBlocks), 'only cluster blocks are read');
  const read = reads.reduce((n, g) => n + g.length, 0);
  assert.ok(read < blocks.length * 0.25, `${read} bytes read of a ${blocks.length}-byte section`);

  // The same query again: answered from the decoded blocks in memory.
  assert.deepEqual(await reader.search(q, 10, 128, undefined, 8), found);
  assert.equal(store.gets.length, opened + 8);
  reader.close();
});

test('under a cluster cache smaller than two blocks, blocks are evicted and read again, and every answer stays the same', async () => {
  const { store, meta, schema, vectors } = await stored();
  const reference = await open(store, meta, schema, new MemoryCache<IvfCluster>(1 << 30));
  const blockBytes = Math.ceil(meta.sections['ivf.clusters']!.length / 50);
  const tiny = new MemoryCache<IvfCluster>(blockBytes * 2);
  const reader = await open(store, meta, schema, tiny);
  const rand = rng(12);
  for (let i = 0; i < 25; i++) {
    const q = new Float32Array(DIM).map(() => rand() * 2 - 1);
    const accept = i % 2 === 0 ? undefined : (row: number) => row % 3 !== 0;
    assert.deepEqual(await reader.search(q, 10, 128, accept, 6), await reference.search(q, 10, 128, accept, 6), `query ${i}`);
  }
  const stats = tiny.stats();
  assert.ok(stats.evictions > 0, 'blocks were evicted');
  assert.ok(stats.bytes <= stats.max_bytes, `cache holds ${stats.bytes} of at most ${stats.max_bytes} bytes`);
  // Random access still works after the query path: the whole section, once.
  await reader.loadVectors();
  const off = reader.vectorOffset(7);
  assert.deepEqual(reader.vectorData().subarray(off, off + DIM), vectors.subarray(7 * DIM, 8 * DIM));
  reader.close();
  reference.close();
});
