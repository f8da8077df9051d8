// Two servers in one process, each with its own reader caches (ReaderOptions, as main.ts builds
// them from the config): a query on one fills its caches only, nothing is shared or left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCache } from '../../src/cache/index.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import type { IvfCacheEntry, TextPart } from '../../src/segment/index.ts';
import { rng, testApp, type TestApp } from '../support/app.ts';

const DIM = 8;
const ROWS = 400;

function server() {
  const clusterCache = new MemoryCache<IvfCacheEntry>(16 << 20);
  const textCache = new MemoryCache<TextPart>(16 << 20);
  const t = testApp({ indexing: { ivf_min_rows: 100 }, readerOptions: { clusterCache, textCache } });
  return { t, clusterCache, textCache };
}

/** An IVF segment with a text field, flushed: its readers are opened with the server's options. */
async function seeded(t: TestApp): Promise<number[]> {
  const rand = rng(5);
  await t.call('PUT', '/v1/namespaces/r', { vector_dim: DIM, vector_metric: 'l2', attributes: { title: { type: 'string', full_text: true } } });
  const documents = Array.from({ length: ROWS }, (_, i) => ({
    id: i, vector: Array.from({ length: DIM }, () => rand()), attributes: { title: i % 3 === 0 ? 'blue ocean' : 'green field' },
  }));
  assert.equal((await t.call('POST', '/v1/namespaces/r/upsert', { documents })).status, 200);
  await flushTail(await t.catalog.get('r'));
  return documents[7]!.vector;
}

test('each server\'s readers use the caches it was given, and only those', async () => {
  const a = server();
  const b = server();
  const q = await seeded(a.t);
  await seeded(b.t);
  const vector = await a.t.call('POST', '/v1/namespaces/r/query', { vector: q, top_k: 3 });
  assert.equal(vector.status, 200);
  assert.equal(vector.body.results[0].id, 7);
  const text = await a.t.call('POST', '/v1/namespaces/r/query', { full_text: { field: 'title', query: 'ocean' }, top_k: 3 });
  assert.equal(text.status, 200);
  assert.equal(text.body.results.length, 3);
  assert.ok(a.clusterCache.stats().entries > 0, 'the IVF query kept its blocks in server a\'s cache');
  assert.ok(a.textCache.stats().entries > 0, 'the text query kept its postings in server a\'s cache');
  assert.equal(b.clusterCache.stats().entries + b.clusterCache.stats().misses, 0, 'server b\'s cache saw nothing of a\'s queries');
  assert.equal(b.textCache.stats().entries + b.textCache.stats().misses, 0);
  await a.t.app.close();
  await b.t.app.close();
});
