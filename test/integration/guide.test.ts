// The guide's curl session (create, upsert, query) against a real `npm start`-style process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, startSilt } from '../support/silt-process.ts';

test("the guide's walk-through works over real HTTP", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-guide-'));
  const env = { SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache') };
  const silt = await startSilt(env);
  try {
    assert.equal((await http(silt.url, 'GET', '/health')).body.status, 'ok');
    assert.equal((await http(silt.url, 'GET', '/ready')).status, 200);

    // Verbatim from the guide: a 768-dimension namespace and a 3-dimension vector.
    const create = await http(silt.url, 'PUT', '/v1/namespaces/my-docs', {
      vector_dim: 768, vector_metric: 'cosine', attributes: { title: { type: 'string', full_text: true } },
    });
    assert.equal(create.status, 201);
    const upsert = await http(silt.url, 'POST', '/v1/namespaces/my-docs/upsert', {
      documents: [{ id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World' } }],
    });
    assert.equal(upsert.status, 400);
    assert.equal(upsert.body.error.message, "documents[0].vector: vector has 3 dimensions; namespace 'my-docs' expects 768");

    // The same session with matching dimensions, as the README shows it.
    await http(silt.url, 'PUT', '/v1/namespaces/my-docs-3d', {
      vector_dim: 3, vector_metric: 'cosine', attributes: { title: { type: 'string', full_text: true } },
    });
    const ok = await http(silt.url, 'POST', '/v1/namespaces/my-docs-3d/upsert', {
      documents: [
        { id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World' } },
        { id: 2, vector: [0.3, 0.2, 0.1], attributes: { title: 'Goodbye moon' } },
      ],
    });
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('x-silt-node'));
    const q = await http(silt.url, 'POST', '/v1/namespaces/my-docs-3d/query', { vector: [0.1, 0.2, 0.3], top_k: 10 });
    assert.equal(q.status, 200);
    assert.deepEqual(q.body.results.map((r: { id: number }) => r.id), [1, 2]);
    assert.deepEqual(q.body.results[0].attributes, { title: 'Hello World' });
    const text = await http(silt.url, 'POST', '/v1/namespaces/my-docs-3d/query', { full_text: { field: 'title', query: 'hello' } });
    assert.deepEqual(text.body.results.map((r: { id: number }) => r.id), [1]);
    assert.equal(await silt.stop(), 0);

    // SIGTERM flushed the tail: the restarted node finds it in a segment, nothing left to replay.
    const again = await startSilt(env);
    try {
      const stats = await http(again.url, 'GET', '/v1/namespaces/my-docs-3d');
      assert.equal(stats.body.documents, 2);
      assert.equal(stats.body.unindexed_documents, 0);
      assert.equal(stats.body.segments.length, 1);
      assert.equal(await again.stop(), 0);
    } finally {
      again.child.kill('SIGKILL');
    }
  } finally {
    silt.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
