// When ingest pauses, the background indexer folds a tail worth indexing after idle_flush_secs
// instead of waiting out flush_interval_secs, so queries stop scanning it exactly; a small tail
// still waits for the interval (no tiny segment for every pause of a trickle of writes). Time is
// the indexer's injected clock; the writes' own times are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Maintenance } from '../../src/compaction/maintenance.ts';
import { TEST_INDEXING, testApp } from '../support/app.ts';

const FLUSH_DOCS = 100;
const IDLE_SECS = 5;
const INTERVAL_SECS = 60;

async function setup() {
  const t = testApp({});
  const start = Date.now();
  let clock = start;
  const maintenance = new Maintenance(() => t.catalog.openNamespaces(), {
    ...TEST_INDEXING, flush_docs: FLUSH_DOCS, flush_interval_secs: INTERVAL_SECS, idle_flush_secs: IDLE_SECS,
    compaction: { enabled: false, interval_secs: 3600, max_segments: 100, max_total_docs: 1_000_000, gc_grace_secs: 300 },
  }, pino({ level: 'silent' }), () => clock);
  const at = async (secs: number) => {
    clock = start + secs * 1000;
    for (const ns of t.catalog.openNamespaces()) await maintenance.check(ns);
  };
  const write = async (n: number) => {
    const documents = Array.from({ length: n }, (_, i) => ({ id: i, vector: [1, i] }));
    assert.equal((await t.call('POST', '/v1/namespaces/i/upsert', { documents })).status, 200);
  };
  assert.equal((await t.call('PUT', '/v1/namespaces/i', { vector_dim: 2 })).status, 201);
  await at(0); // the first check only starts the namespace's clocks
  const indexed = async () => {
    const ns = await t.catalog.get('i');
    return { segments: ns.segments.length, tail: ns.memtable.rowCount };
  };
  return { t, at, write, indexed };
}

test('a tail of a tenth of flush_docs or more is folded once writes pause for idle_flush_secs', async () => {
  const { t, at, write, indexed } = await setup();
  await write(FLUSH_DOCS / 10);
  await at(1);
  assert.deepEqual(await indexed(), { segments: 0, tail: FLUSH_DOCS / 10 }, 'writes just came: not idle yet');
  await at(IDLE_SECS + 1);
  assert.deepEqual(await indexed(), { segments: 1, tail: 0 }, 'idle: folded long before flush_interval_secs');
  const res = await t.call('POST', '/v1/namespaces/i/query', { vector: [1, 3], top_k: 1 });
  assert.equal(res.status, 200);
  assert.equal(res.body.results[0].id, 3);
  await t.app.close();
});

test('a smaller tail waits for flush_interval_secs however long writes pause', async () => {
  const { t, at, write, indexed } = await setup();
  await write(FLUSH_DOCS / 10 - 1);
  await at(IDLE_SECS * 4);
  assert.deepEqual(await indexed(), { segments: 0, tail: FLUSH_DOCS / 10 - 1 });
  await at(INTERVAL_SECS + 1);
  assert.deepEqual(await indexed(), { segments: 1, tail: 0 });
  await t.app.close();
});
