// Write backpressure: with indexing stalled (flush thresholds far away, nothing flushing), writes
// past the unindexed-bytes limits get 429 SILT_ERR_BACKPRESSURE with Retry-After and are not
// applied; a flush lets writes in again, and the background indexer starts that flush by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { queryNode, TEST_INDEXING, testApp, type TestApp } from '../support/app.ts';

const SCHEMA = { vector_dim: 4, vector_metric: 'l2', attributes: { title: { type: 'string' } } };
/** About 2.3 kB of WAL per batch of 20 such documents. */
const batch = (first: number) => ({
  documents: Array.from({ length: 20 }, (_, i) => ({ id: first + i, vector: [first, i, 1, 2], attributes: { title: `doc ${first + i}` } })),
});

async function inject(t: TestApp, method: string, url: string, body?: unknown) {
  const res = await t.app.inject({ method: method as 'POST', url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : null };
}

/** Upserts batches into `ns` until one is refused; returns the first id of the refused batch. */
async function writeUntilRefused(t: TestApp, ns: string, from: number): Promise<{ refused: number; res: Awaited<ReturnType<typeof inject>> }> {
  for (let first = from; first < from + 20 * 1000; first += 20) {
    const res = await inject(t, 'POST', `/v1/namespaces/${ns}/upsert`, batch(first));
    if (res.status !== 200) return { refused: first, res };
  }
  throw new Error(`namespace ${ns} never refused a write`);
}

test('a namespace over its unindexed limit refuses writes with 429 and Retry-After; nothing of them is applied, even after a restart', async () => {
  const store = new MemoryObjectStore();
  const indexing = { unindexed_limit_bytes: 20_000 };
  const t = testApp({ store, indexing });
  assert.equal((await inject(t, 'PUT', '/v1/namespaces/bp', SCHEMA)).status, 201);
  const { refused, res } = await writeUntilRefused(t, 'bp', 0);
  assert.ok(refused > 0, 'writes under the limit are accepted');
  assert.equal(res.status, 429);
  assert.equal(res.body.error.code, 'SILT_ERR_BACKPRESSURE');
  assert.match(res.body.error.message, /namespace 'bp'.*indexing\.unindexed_limit_bytes/);
  assert.equal(res.headers['retry-after'], '5');
  assert.equal(res.headers['x-silt-node'], 'test');

  // Deletes grow the tail as upserts do: refused too, and not applied.
  const del = await inject(t, 'POST', '/v1/namespaces/bp/delete', { ids: [0] });
  assert.equal(del.status, 429);
  const stats = (await inject(t, 'GET', '/v1/namespaces/bp')).body;
  assert.equal(stats.documents, refused);
  assert.ok(stats.unindexed_bytes >= 20_000);
  assert.equal(stats.unindexed_limit_bytes, 20_000);
  assert.equal((await inject(t, 'GET', `/v1/namespaces/bp/documents/${refused}`)).status, 404);
  assert.equal((await inject(t, 'GET', '/v1/namespaces/bp/documents/0')).status, 200);

  // A restart replays the WAL: the refused batch was never in it.
  const again = testApp({ store, indexing });
  const reopened = (await inject(again, 'GET', '/v1/namespaces/bp')).body;
  assert.equal(reopened.documents, refused);
  assert.equal((await inject(again, 'GET', `/v1/namespaces/bp/documents/${refused}`)).status, 404);
  assert.equal((await inject(again, 'POST', '/v1/namespaces/bp/upsert', batch(refused))).status, 429, 'still over the limit after replay');

  // A flush folds the tail: the same batch is accepted now.
  assert.equal((await inject(again, 'POST', '/v1/namespaces/bp/flush')).status, 200);
  assert.equal((await inject(again, 'GET', '/v1/namespaces/bp')).body.unindexed_bytes, 0);
  assert.equal((await inject(again, 'POST', '/v1/namespaces/bp/upsert', batch(refused))).status, 200);
  assert.equal((await inject(again, 'GET', '/v1/namespaces/bp')).body.documents, refused + 20);
  // Deleting the namespace, which frees its tail, is never refused.
  await writeUntilRefused(again, 'bp', 100_000);
  assert.equal((await inject(again, 'DELETE', '/v1/namespaces/bp')).status, 200);
});

test('the node-wide limit counts the tails of all namespaces together', async () => {
  const t = testApp({ indexing: { unindexed_limit_bytes: 1 << 30, node_unindexed_limit_bytes: 20_000 } });
  for (const ns of ['a', 'b']) assert.equal((await inject(t, 'PUT', `/v1/namespaces/${ns}`, SCHEMA)).status, 201);
  // Half the limit in a, then b fills the rest: b is refused although its own tail is small.
  let first = 0;
  for (; (await inject(t, 'GET', '/v1/namespaces/a')).body.unindexed_bytes < 10_000; first += 20) {
    assert.equal((await inject(t, 'POST', '/v1/namespaces/a/upsert', batch(first))).status, 200);
  }
  const { res } = await writeUntilRefused(t, 'b', 0);
  assert.equal(res.status, 429);
  assert.match(res.body.error.message, /namespace 'b': the node's unindexed data.*indexing\.node_unindexed_limit_bytes/);
  const bTail = (await inject(t, 'GET', '/v1/namespaces/b')).body.unindexed_bytes;
  assert.ok(bTail < 20_000);
  assert.equal((await inject(t, 'POST', '/v1/namespaces/a/upsert', batch(first))).status, 429, 'a is refused as well');

  const stats = (await inject(t, 'GET', '/stats')).body;
  assert.equal(stats.unindexed.unindexed_limit_bytes, 20_000);
  assert.ok(stats.unindexed.unindexed_bytes >= 20_000);
  const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^silt_unindexed_limit_bytes 20000$/m);
  assert.match(metrics, /^silt_unindexed_bytes \d{5,}$/m);

  // Flushing a alone brings the node under its limit: both namespaces take writes again.
  assert.equal((await inject(t, 'POST', '/v1/namespaces/a/flush')).status, 200);
  assert.equal((await inject(t, 'POST', '/v1/namespaces/b/upsert', batch(50_000))).status, 200);
  assert.equal((await inject(t, 'POST', '/v1/namespaces/a/upsert', batch(50_000))).status, 200);
});

test('while writes are refused, the background indexer flushes the tail, so the 429s end by themselves', async () => {
  // Flush thresholds (1M docs, 1 GiB, an hour) are never reached: only backpressure starts the flush.
  const t = testApp({ indexing: { unindexed_limit_bytes: 20_000 } });
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, pino({ level: 'silent' }));
  maintenance.start();
  try {
    assert.equal((await inject(t, 'PUT', '/v1/namespaces/auto', SCHEMA)).status, 201);
    const { refused } = await writeUntilRefused(t, 'auto', 0);
    let status = 429;
    for (let i = 0; i < 300 && status === 429; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await inject(t, 'POST', '/v1/namespaces/auto/upsert', batch(refused))).status;
    }
    assert.equal(status, 200);
    const stats = (await inject(t, 'GET', '/v1/namespaces/auto')).body;
    assert.equal(stats.segments.length, 1, 'the tail was folded into a segment');
    assert.equal(stats.documents, refused + 20);
  } finally {
    maintenance.stop();
  }
});

test('a write relayed to the owner passes its 429 and Retry-After through', async () => {
  const store = new MemoryObjectStore();
  const owner = testApp({ store, indexing: { unindexed_limit_bytes: 20_000 } });
  const ownerUrl = await owner.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const relay = queryNode(owner, ownerUrl);
    const viaRelay = { ...owner, app: relay };
    assert.equal((await inject(viaRelay, 'PUT', '/v1/namespaces/r', SCHEMA)).status, 201);
    const { res } = await writeUntilRefused(viaRelay, 'r', 0);
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, 'SILT_ERR_BACKPRESSURE');
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.headers['x-silt-node'], 'test', 'the owner answered');
    assert.equal(res.headers['x-silt-via'], 'query-1');
    await relay.close();
  } finally {
    await owner.app.close();
  }
});
