// branch_from_namespace and copy_from_namespace through turbopuffer's own client: the new
// namespace holds the source's documents at the time of the write, shares its segments (no data
// is copied), and goes its own way afterwards; deleting either never breaks the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { listAll } from '../../src/storage/object-store.ts';
import { segmentPrefix } from '../../src/storage/layout.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer, failure } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

/** The ids a namespace answers, in id order, through turbopuffer's own query. */
async function ids(ns: string): Promise<unknown[]> {
  const res = await server.client.namespace(ns).query({ rank_by: ['id', 'asc'], top_k: 1000 });
  return (res.rows ?? []).map((r) => r.id);
}


async function objects(prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of listAll(server.silt.store, prefix)) n++;
  return n;
}

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, vector: [1, from + i], title: `doc ${from + i}` }));

test('a branch has the source\'s documents, shares its segments, and then goes its own way', async () => {
  const source = server.client.namespace('cp-source');
  await source.write({ upsert_rows: rows(1, 300) });
  // Part of the source is in a segment, part only in the WAL tail: the branch has both.
  assert.equal((await server.silt.call('POST', '/v1/namespaces/cp-source/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` })).status, 200);
  await source.write({ upsert_rows: rows(301, 20), deletes: [5] });

  const res = await server.client.namespace('cp-branch').write({ branch_from_namespace: 'cp-source' });
  assert.equal(res.status, 'OK');
  assert.equal(res.rows_affected, 319);
  const expected = [...rows(1, 320)].map((r) => r.id).filter((id) => id !== 5);
  assert.deepEqual(await ids('cp-branch'), expected);
  // The source's tail was folded into a segment for the copy; no segment was copied.
  assert.ok(await objects(segmentPrefix('cp-source')) >= 2);
  assert.equal(await objects(segmentPrefix('cp-branch')), 0);

  // Each goes its own way.
  await server.client.namespace('cp-branch').write({ upsert_rows: [{ id: 9000, vector: [2, 2], title: 'branch only' }], deletes: [1] });
  await source.write({ upsert_rows: [{ id: 8000, vector: [3, 3], title: 'source only' }] });
  const branchIds = await ids('cp-branch');
  const sourceIds = await ids('cp-source');
  assert.ok(branchIds.includes(9000) && !branchIds.includes(8000) && !branchIds.includes(1));
  assert.ok(sourceIds.includes(8000) && !sourceIds.includes(9000) && sourceIds.includes(1));

  // Deleting the source leaves the branch whole.
  await source.deleteAll();
  assert.deepEqual(await ids('cp-branch'), [...expected.filter((id) => id !== 1), 9000]);
});

test('copy_from_namespace takes a name or {source_namespace}; the target must be new', async () => {
  await server.client.namespace('cp-a').write({ upsert_rows: rows(1, 3) });
  const res = await server.client.namespace('cp-b').write({ copy_from_namespace: { source_namespace: 'cp-a' } });
  assert.equal(res.rows_affected, 3);
  assert.deepEqual(await ids('cp-b'), [1, 2, 3]);
  const again = await failure(server.client.namespace('cp-b').write({ copy_from_namespace: 'cp-a' }));
  assert.equal(again.status, 409);
  assert.equal(again.headers?.get('x-should-retry'), 'false');
  assert.match(again.message, /SILT_ERR_NAMESPACE_EXISTS/);
});

test('a copy is the whole write, within one cluster: anything else is refused and nothing is made', async () => {
  const mixed = await failure(server.client.namespace('cp-mixed').write({ branch_from_namespace: 'cp-a', upsert_rows: rows(10, 1) }));
  assert.equal(mixed.status, 400);
  assert.match(mixed.message, /upsert_rows in a second write/);
  const keyed = await failure(server.client.namespace('cp-mixed').write({ copy_from_namespace: { source_namespace: 'cp-a', source_api_key: 'k' } }));
  assert.equal(keyed.status, 400);
  assert.match(keyed.message, /omit source_api_key/);
  const missing = await failure(server.client.namespace('cp-mixed').write({ branch_from_namespace: 'cp-none' }));
  assert.equal(missing.status, 404);
  assert.equal((await failure(server.client.namespace('cp-mixed').metadata())).status, 404);
});
