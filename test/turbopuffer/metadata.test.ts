// GET /v2/namespaces/:ns/metadata through turbopuffer's client: row count, sizes, times, index
// status before and after the tail is folded, schema and encryption; and the metadata and the
// schema served by a query node from object storage while the owner is down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { queryNode } from '../support/app.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer();
});
after(() => server.close());

test('metadata counts the rows and says whether the index is up to date', async () => {
  const ns = server.client.namespace('m-basic');
  const before = Date.now();
  await ns.write({ upsert_rows: Array.from({ length: 5 }, (_, i) => ({ id: i, vector: [i, 1], title: `t${i}` })) });
  await ns.write({ deletes: [0] });
  const meta = await ns.metadata();
  assert.equal(meta.approx_row_count, 4);
  assert.ok(meta.approx_logical_bytes > 0);
  assert.equal(meta.index.status, 'updating');
  assert.ok(meta.index.status === 'updating' && meta.index.unindexed_bytes > 0);
  assert.deepEqual(meta.encryption, { mode: 'default' });
  assert.equal(meta.schema.title!.type, 'string');
  assert.equal(meta.schema.vector!.type, '[2]f32');
  const created = Date.parse(meta.created_at);
  const updated = Date.parse(meta.updated_at);
  assert.ok(created >= before - 1000 && updated >= created, `${meta.created_at} ${meta.updated_at}`);

  const flushed = await server.silt.call('POST', '/v1/namespaces/m-basic/flush', undefined, { authorization: `Bearer ${TPUF_KEY}` });
  assert.equal(flushed.status, 200);
  const after = await ns.metadata();
  assert.deepEqual(after.index, { status: 'up-to-date' });
  assert.equal(after.approx_row_count, 4);
  // The time of the last write survives the fold into segments.
  assert.equal(after.updated_at, meta.updated_at);
});

test('a missing namespace is a 404 in turbopuffer\'s error body', async () => {
  await assert.rejects(server.client.namespace('m-missing').metadata(),
    (e: Error & { status?: number }) => e.status === 404 && /namespace 'm-missing' does not exist/.test(e.message));
});

test('a query node serves metadata and schema from object storage while the owner is down', async () => {
  const ns = server.client.namespace('m-view');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], title: 'x' }, { id: 2, vector: [0, 1], title: 'y' }] });
  const owner = await ns.metadata();
  const ownerSchema = await ns.schema();
  // Port 1 refuses connections: the owner is down as far as this query node knows.
  const qn = queryNode(server.silt, 'http://127.0.0.1:1');
  try {
    const meta = await qn.inject({ method: 'GET', url: '/v2/namespaces/m-view/metadata' });
    assert.equal(meta.statusCode, 200, meta.body);
    assert.equal(meta.headers['x-silt-served-from'], 'object_storage');
    const body = JSON.parse(meta.body);
    assert.equal(body.approx_row_count, 2);
    assert.deepEqual(body.schema, owner.schema);
    assert.equal(body.created_at, owner.created_at);
    const schema = await qn.inject({ method: 'GET', url: '/v1/namespaces/m-view/schema' });
    assert.equal(schema.statusCode, 200, schema.body);
    assert.deepEqual(JSON.parse(schema.body), ownerSchema, 'the schema body holds the schema only');
  } finally {
    await qn.close();
  }
});
