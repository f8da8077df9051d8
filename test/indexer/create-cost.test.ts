// Creating a namespace and writing to it is what a node with many small namespaces does all day:
// the first write uses the namespace the create opened from the manifest it wrote, and reads no
// manifest again (counted through the storage wrapper).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import { testApp } from '../support/app.ts';

test('a create then a first write read the manifest pointer once (the create\'s miss) and nothing else', async () => {
  const store = new CountingObjectStore(new MemoryObjectStore());
  const t = testApp({ store });
  assert.equal((await t.call('PUT', '/v1/namespaces/c', { vector_dim: 2 })).status, 201);
  assert.equal((await t.call('POST', '/v1/namespaces/c/upsert', { documents: [{ id: 1, vector: [1, 1] }] })).status, 200);
  assert.equal(store.counts().get, 1, `${store.counts().get} GETs`);
  assert.equal((await t.call('GET', '/v1/namespaces/c/documents/1')).status, 200);
  // Created again after a delete: the earlier incarnation's instance is not the one served.
  assert.equal((await t.call('DELETE', '/v1/namespaces/c')).status, 200);
  assert.equal((await t.call('PUT', '/v1/namespaces/c', { vector_dim: 2 })).status, 201);
  assert.equal((await t.call('GET', '/v1/namespaces/c/documents/1')).status, 404);
  await t.app.close();
});
