// Many namespaces flushing at once share the node's build pool: the threads alive never exceed
// its size (counted by the pool and in /proc/self/task), and every flush builds a correct segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { flushTail } from '../../src/indexer/flush.ts';
import { BuildPool } from '../../src/segment/index.ts';
import { testApp } from '../support/app.ts';

/**
 * Threads one pool worker adds to the process, measured here: the worker itself and the thread
 * of the tsx loader hooks it registers, plus one more Node starts with them.
 */
const THREADS_PER_WORKER = 3;
const NAMESPACES = 50;
const DOCS = 40;

const threadsNow = () => readdirSync('/proc/self/task').length;

test(`${NAMESPACES} namespaces flushing at once stay within the build pool`, async () => {
  const POOL = 2;
  const builds = new BuildPool({ threads: POOL });
  const t = testApp({ builds });
  try {
    const names = Array.from({ length: NAMESPACES }, (_, i) => `ns-${i}`);
    for (const [i, name] of names.entries()) {
      assert.equal((await t.call('PUT', `/v1/namespaces/${name}`, { vector_dim: 8, vector_metric: 'cosine', attributes: { n: { type: 'integer' } } })).status, 201);
      const documents = Array.from({ length: DOCS }, (_, d) => ({
        id: d, vector: Array.from({ length: 8 }, (_, k) => Math.sin(i * 31 + d * 7 + k) + 1.5), attributes: { n: i * 1000 + d },
      }));
      assert.equal((await t.call('POST', `/v1/namespaces/${name}/upsert`, { documents })).status, 200);
    }
    const baseline = threadsNow();
    let peak = { pool: 0, active: 0, queued: 0, process: baseline };
    const sample = () => {
      const s = builds.stats();
      peak = {
        pool: Math.max(peak.pool, s.threads), active: Math.max(peak.active, s.active),
        queued: Math.max(peak.queued, s.queued), process: Math.max(peak.process, threadsNow()),
      };
    };
    const sampler = setInterval(sample, 1);
    const namespaces = await Promise.all(names.map((n) => t.catalog.get(n)));
    const flushed = await Promise.all(namespaces.map(async (ns) => {
      const done = await flushTail(ns);
      sample();
      return done;
    }));
    clearInterval(sampler);

    assert.ok(flushed.every(Boolean));
    assert.ok(peak.queued > 0, 'builds had to wait for a thread');
    assert.ok(peak.pool <= POOL, `pool threads peaked at ${peak.pool}`);
    assert.ok(peak.active <= POOL, `builds running at once peaked at ${peak.active}`);
    assert.ok(peak.process - baseline <= POOL * THREADS_PER_WORKER, `process threads went from ${baseline} to ${peak.process}`);
    assert.deepEqual({ ...builds.stats(), threads: 0 }, { threads: 0, max_threads: POOL, active: 0, queued: 0, completed: NAMESPACES, failed: 0 });

    for (const [i, name] of names.entries()) {
      const stats = (await t.call('GET', `/v1/namespaces/${name}`)).body;
      assert.equal(stats.unindexed_documents, 0, name);
      assert.deepEqual(stats.segments.map((s: { documents: number }) => s.documents), [DOCS], name);
      const doc = (await t.call('GET', `/v1/namespaces/${name}/documents/7`)).body;
      assert.equal(doc.attributes.n, i * 1000 + 7, name);
      const hits = (await t.call('POST', `/v1/namespaces/${name}/query`, { vector: doc.vector, top_k: 1 })).body.results;
      assert.equal(hits[0].id, 7, name);
    }
  } finally {
    await builds.close();
  }
});
