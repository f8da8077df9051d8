// GET /metrics through prom-client: after writes, queries of each kind, a flush and a merge, every
// documented metric is exposed with its type, the histograms have observations under the labels
// they promise (route patterns, never raw URLs), and the process metrics are there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { queryNode, testApp } from '../support/app.ts';
import { CLUSTER_METRICS, metricTypes, PROCESS_METRICS, SILT_METRICS } from '../support/metrics.ts';

const SCHEMA = { vector_dim: 2, attributes: { title: { type: 'string', full_text: true }, n: { type: 'integer' } } };

/** The value of one sample line, e.g. `silt_segments` or `silt_query_duration_seconds_count{kind="text"}`. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

test('/metrics exposes every documented metric with its type, with observations after writes, queries, a flush and a merge', async () => {
  const t = testApp({ store: new CountingObjectStore(new MemoryObjectStore()) });
  try {
    assert.equal((await t.call('PUT', '/v1/namespaces/m', SCHEMA)).status, 201);
    // Five segments (one more than testApp's compaction.max_segments), the last batch left in the tail.
    for (let batch = 0; batch < 5; batch++) {
      const documents = Array.from({ length: 5 }, (_, i) => ({ id: batch * 5 + i, vector: [i, batch], attributes: { title: `ocean ${i}`, n: i } }));
      assert.equal((await t.call('POST', '/v1/namespaces/m/upsert', { documents })).status, 200);
      if (batch < 4) assert.equal((await t.call('POST', '/v1/namespaces/m/flush', {})).status, 200);
    }
    await sleep(20);
    const before = String((await t.call('GET', '/metrics')).body);
    assert.equal(sample(before, 'silt_unindexed_documents'), 5);
    assert.ok(sample(before, 'silt_index_lag_seconds')! >= 0.015, 'the unindexed write is at least 20 ms old');
    assert.ok(sample(before, 'silt_unindexed_bytes')! > 0);
    assert.equal((await t.call('POST', '/v1/namespaces/m/flush', {})).status, 200);
    const compacted = await t.call('POST', '/v1/namespaces/m/compact', {});
    assert.equal(compacted.status, 200);
    assert.ok(compacted.body.merges >= 1);
    for (const q of [{ vector: [1, 0] }, { full_text: { field: 'title', query: 'ocean' } }, { vector: [1, 0], full_text: { field: 'title', query: 'ocean' } }, { vector: [1, 0], filter: { field: 'n', op: 'eq', value: 1 } }]) {
      const res = await t.call('POST', '/v1/namespaces/m/query', q);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    assert.equal((await t.call('GET', '/v1/namespaces/m/documents/12345')).status, 404);

    const res = await t.call('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = String(res.body);
    const types = metricTypes(text);
    for (const [name, type] of Object.entries({ ...SILT_METRICS, ...PROCESS_METRICS })) {
      assert.equal(types.get(name), type, `${name} is exposed as a ${type}`);
    }
    // Every silt_ metric exposed is documented (in test/support/metrics.ts, which the docs test checks).
    for (const name of types.keys()) if (name.startsWith('silt_')) assert.ok(name in SILT_METRICS, `${name} is documented`);

    for (const kind of ['vector', 'text', 'hybrid', 'filtered']) {
      assert.equal(sample(text, `silt_query_duration_seconds_count{kind="${kind}"}`), 1, `one ${kind} query`);
    }
    assert.equal(sample(text, 'silt_wal_commit_duration_seconds_count'), 5);
    assert.equal(sample(text, 'silt_index_build_duration_seconds_count{kind="flush"}'), 5);
    assert.equal(sample(text, 'silt_index_build_duration_seconds_count{kind="merge"}'), compacted.body.merges);
    assert.equal(sample(text, 'silt_segments'), compacted.body.segments.length);
    assert.equal(sample(text, 'silt_unindexed_documents'), 0);
    assert.equal(sample(text, 'silt_index_lag_seconds'), 0);
    assert.ok(sample(text, 'silt_object_store_request_duration_seconds_count{operation="put",outcome="ok"}')! >= 4);
    assert.ok(sample(text, 'silt_object_store_requests_total{op="put"}')! >= 4);
    // Routes by pattern: the document id and namespace name are not labels.
    assert.equal(sample(text, 'silt_http_request_duration_seconds_count{route="/v1/namespaces/:ns/query",method="POST",status="200"}'), 4);
    assert.equal(sample(text, 'silt_http_request_duration_seconds_count{route="/v1/namespaces/:ns/documents/:id",method="GET",status="404"}'), 1);
    // In a label set, that is: a sample's value (a duration's sum) may hold those digits by chance.
    assert.doesNotMatch(text, /\{[^}]*12345[^}]*\}|route="\/v1\/namespaces\/m/);
    assert.equal(sample(text, 'silt_http_responses_total{status="404"}'), 1);
  } finally {
    await t.app.close();
  }
});

test('two servers in one process keep separate metrics', async () => {
  const a = testApp();
  const b = testApp();
  try {
    await a.call('GET', '/health');
    const text = String((await b.call('GET', '/metrics')).body);
    assert.equal(sample(text, 'silt_http_responses_total{status="200"}'), null);
  } finally {
    await a.app.close();
    await b.app.close();
  }
});

test('a query node times reads it serves from storage when the owner is down, and exposes the routing counters', async () => {
  const owner = testApp();
  const ownerUrl = await owner.app.listen({ host: '127.0.0.1', port: 0 });
  assert.equal((await owner.call('PUT', '/v1/namespaces/s', { vector_dim: 2 })).status, 201);
  assert.equal((await owner.call('POST', '/v1/namespaces/s/upsert', { documents: [{ id: 1, vector: [1, 0] }] })).status, 200);
  await owner.app.close();
  const query = queryNode(owner, ownerUrl, {
    forwardTimeoutMs: 2000,
    stats: () => ({
      node: 'query-1', role: 'query', object_store_requests: {}, namespaces_open: 0, namespace_views: 1, namespaces_closed_idle_total: 0, namespace_views_evicted_total: 0,
      namespaces_closed_memory_total: 0, memory: { tails: 0, segments: 0, views: 0, namespaces_overhead: 0, heap: 0, array_buffers: 0, rss: 0 },
      cache: { memory: EMPTY, disk: EMPTY }, builds: { threads: 0, max_threads: 1, active: 0, queued: 0, completed: 0, failed: 0 },
      unindexed: owner.catalog.admission.nodeStats(),
    }),
  });
  try {
    const res = await query.inject({ method: 'POST', url: '/v1/namespaces/s/query', payload: { vector: [1, 0] } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-silt-served-from'], 'object_storage');
    const text = (await query.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'silt_query_duration_seconds_count{kind="served_from_storage"}'), 1);
    const types = metricTypes(text);
    for (const [name, type] of Object.entries(CLUSTER_METRICS)) assert.equal(types.get(name), type, name);
    assert.equal(sample(text, 'silt_served_from_storage_total'), 1);
  } finally {
    await query.close();
  }
});

const EMPTY = { entries: 0, bytes: 0, max_bytes: 0, hits: 0, misses: 0, evictions: 0, write_errors: 0 };
