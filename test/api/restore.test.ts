import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { restoreNamespace } from '../../src/indexer/restore.ts';
import { queryNode, testApp, type TestApp } from '../support/app.ts';

const schema = { vector_dim: 2, attributes: { n: { type: 'integer' } } };
const doc = (id: number) => ({ id, vector: [id, 1], attributes: { n: id } });

async function ids(app: TestApp, ns: string): Promise<number[]> {
  const res = await app.call('GET', `/v1/namespaces/${ns}/documents`);
  assert.equal(res.status, 200);
  return res.body.documents.map((d: { id: number }) => d.id);
}

async function ok(res: Promise<{ status: number; body: any }>) {
  const r = await res;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('a restore to a version before a delete brings the documents back; a second restore undoes the first; both survive a restart', async () => {
  const store = new MemoryObjectStore();
  const a = testApp({ store });
  await a.call('PUT', '/v1/namespaces/h', schema);
  await ok(a.call('POST', '/v1/namespaces/h/upsert', { documents: [doc(1), doc(2), doc(3)] }));
  await ok(a.call('POST', '/v1/namespaces/h/flush'));
  const beforeDelete = (await ok(a.call('GET', '/v1/namespaces/h/versions'))).versions[0];
  assert.equal(beforeDelete.documents, 3);
  assert.equal(beforeDelete.current, true);
  await ok(a.call('POST', '/v1/namespaces/h/delete', { ids: [1, 2] }));
  await ok(a.call('POST', '/v1/namespaces/h/flush'));
  // Acknowledged but only in the WAL tail when the restore starts.
  await ok(a.call('POST', '/v1/namespaces/h/upsert', { documents: [doc(4)] }));
  assert.deepEqual(await ids(a, 'h'), [3, 4]);

  const first = await ok(a.call('POST', '/v1/namespaces/h/restore', { version: beforeDelete.version }));
  assert.equal(first.restored_from, beforeDelete.version);
  assert.equal(first.dropped_writes, 3, 'two deletes and the upsert of 4');
  assert.deepEqual([first.documents_before, first.documents_after], [2, 3]);
  assert.deepEqual(await ids(a, 'h'), [1, 2, 3]);
  await ok(a.call('POST', '/v1/namespaces/h/upsert', { documents: [doc(5)] }));

  // A new process over the same storage: the WAL tail the restore dropped stays dropped.
  const b = testApp({ store });
  assert.deepEqual(await ids(b, 'h'), [1, 2, 3, 5]);
  const versions = (await ok(b.call('GET', '/v1/namespaces/h/versions'))).versions;
  const restored = versions.find((v: { version: number }) => v.version === first.version);
  assert.equal(restored.restored_from, beforeDelete.version);
  // The version the restore replaced holds the tail it flushed first: restoring it is an exact undo.
  const replaced = versions.find((v: { version: number }) => v.version === first.version - 1);
  const undo = await ok(b.call('POST', '/v1/namespaces/h/restore', { version: replaced.version }));
  assert.equal(undo.dropped_writes, 1, 'the upsert of 5');
  assert.deepEqual(await ids(b, 'h'), [3, 4]);
  assert.deepEqual(await ids(testApp({ store }), 'h'), [3, 4]);
  await ok(b.call('POST', '/v1/namespaces/h/upsert', { documents: [doc(6)] }));
  assert.deepEqual(await ids(b, 'h'), [3, 4, 6]);
});

test('a timestamp restores the version current at that instant', async () => {
  const a = testApp();
  await a.call('PUT', '/v1/namespaces/t', schema);
  await ok(a.call('POST', '/v1/namespaces/t/upsert', { documents: [doc(1)] }));
  await ok(a.call('POST', '/v1/namespaces/t/flush'));
  await new Promise((r) => setTimeout(r, 5));
  const at = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  await ok(a.call('POST', '/v1/namespaces/t/upsert', { documents: [doc(2)] }));
  const res = await ok(a.call('POST', '/v1/namespaces/t/restore', { timestamp: at }));
  assert.equal(res.dropped_writes, 1);
  assert.deepEqual(await ids(a, 't'), [1]);
});

test('restore refuses an unknown version, a time before the namespace, one outside retention and a bad body, changing nothing', async () => {
  const a = testApp();
  await a.call('PUT', '/v1/namespaces/e', schema);
  await ok(a.call('POST', '/v1/namespaces/e/upsert', { documents: [doc(1)] }));
  const cases: Array<[unknown, number, string]> = [
    [{ version: 99 }, 404, 'SILT_ERR_VERSION_NOT_FOUND'],
    [{ timestamp: '2001-01-01T00:00:00Z' }, 400, 'SILT_ERR_VERSION_BEFORE_HISTORY'],
    [{ timestamp: '2999-01-01T00:00:00Z' }, 400, 'SILT_ERR_REQUEST_INVALID'],
    [{ timestamp: 'yesterday' }, 400, 'SILT_ERR_REQUEST_INVALID'],
    [{ version: 1, timestamp: '2001-01-01T00:00:00Z' }, 400, 'SILT_ERR_REQUEST_INVALID'],
    [{ versoin: 1 }, 400, 'SILT_ERR_REQUEST_INVALID'],
  ];
  for (const [body, status, code] of cases) {
    const res = await a.call('POST', '/v1/namespaces/e/restore', body);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(res.body.error.code, code);
    assert.match(res.body.error.message, /e|version|timestamp/);
  }
  assert.equal((await a.call('POST', '/v1/namespaces/nope/restore', { version: 1 })).body.error.code, 'SILT_ERR_NAMESPACE_NOT_FOUND');
  assert.deepEqual(await ids(a, 'e'), [1], 'the tail was not touched');
  assert.equal((await ok(a.call('GET', '/v1/namespaces/e/versions'))).versions.length, 1);

  // Two more commits, then a window that holds only the newest two: version 1 has expired.
  await ok(a.call('POST', '/v1/namespaces/e/flush'));
  await new Promise((r) => setTimeout(r, 20));
  // The window starts between versions 2 and 3, however long the next commit takes under load.
  const between = Date.now();
  await ok(a.call('POST', '/v1/namespaces/e/upsert', { documents: [doc(2)] }));
  await ok(a.call('POST', '/v1/namespaces/e/flush'));
  await assert.rejects(restoreNamespace(a.catalog, 'e', { version: 1 }, { retentionMs: Date.now() - between }), (e: { code: string; statusCode: number; message: string }) => {
    assert.equal(e.code, 'SILT_ERR_VERSION_EXPIRED');
    assert.equal(e.statusCode, 410);
    assert.match(e.message, /oldest version kept is 2/);
    return true;
  });
});

test('versions and restore reach the owner through a query node', async () => {
  const owner = testApp();
  await owner.app.listen({ port: 0, host: '127.0.0.1' });
  const address = owner.app.server.address() as { port: number };
  const query = queryNode(owner, `http://127.0.0.1:${address.port}`);
  try {
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await query.inject({ method: method as 'GET', url, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: res.statusCode, body: res.json(), node: res.headers['x-silt-node'] };
    };
    await call('PUT', '/v1/namespaces/c', schema);
    await call('POST', '/v1/namespaces/c/upsert', { documents: [doc(1), doc(2)] });
    await call('POST', '/v1/namespaces/c/flush');
    const v = (await call('GET', '/v1/namespaces/c/versions')).body.versions[0].version;
    await call('POST', '/v1/namespaces/c/delete', { ids: [1] });
    const res = await call('POST', '/v1/namespaces/c/restore', { version: v });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.node, 'test', 'answered by the owner');
    const got = await call('GET', '/v1/namespaces/c/documents/1');
    assert.equal(got.status, 200);
  } finally {
    await query.close();
    await owner.app.close();
  }
});
