// Conditional writes: upsert_condition, patch_condition and delete_condition, tested against the
// stored row with {"$ref_new": attr} standing for the row being written. They are decided on
// the owner in the WAL's turn, so concurrent conditional writes cannot both pass on stale state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { TPUF_KEY, turbopufferServer, type TurbopufferServer } from '../support/turbopuffer.ts';

/** WAL puts take a while, so that concurrent writes queue up behind one in flight. */
let slowWal = false;
class SlowWalStore extends MemoryObjectStore {
  override async put(...args: Parameters<MemoryObjectStore['put']>): ReturnType<MemoryObjectStore['put']> {
    if (slowWal && args[0].includes('/wal/')) await new Promise((r) => setTimeout(r, 100));
    return super.put(...args);
  }
}
const store = new SlowWalStore();

let server: TurbopufferServer;
before(async () => {
  server = await turbopufferServer({ store });
});
after(() => server.close());

async function attrs(ns: string, id: number): Promise<Record<string, unknown> | null> {
  const res = await server.silt.call('GET', `/v1/namespaces/${ns}/documents/${id}`, undefined, { authorization: `Bearer ${TPUF_KEY}` });
  return res.status === 404 ? null : res.body.attributes;
}

test('upsert_condition with $ref_new: only newer versions replace a row; missing rows are written', async () => {
  const ns = server.client.namespace('c-upsert');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], version: 5, body: 'v5' }, { id: 2, vector: [0, 1], version: 5, body: 'v5' }] });
  const res = await ns.write({
    upsert_rows: [
      { id: 1, vector: [1, 0], version: 4, body: 'older' },
      { id: 2, vector: [0, 1], version: 6, body: 'newer' },
      { id: 3, vector: [1, 1], version: 1, body: 'first' },
    ],
    upsert_condition: ['version', 'Lt', { $ref_new: 'version' }],
    return_affected_ids: true,
  });
  assert.deepEqual(res.upserted_ids, [2, 3]);
  assert.equal(res.rows_upserted, 2);
  assert.deepEqual(await attrs('c-upsert', 1), { version: 5, body: 'v5' });
  assert.deepEqual(await attrs('c-upsert', 2), { version: 6, body: 'newer' });
  assert.deepEqual(await attrs('c-upsert', 3), { version: 1, body: 'first' });
});

test('patch_condition and delete_condition test the stored row', async () => {
  const ns = server.client.namespace('c-patch');
  await ns.write({ upsert_rows: [1, 2, 3, 4].map((id) => ({ id, vector: [id, 0], state: id % 2 ? 'open' : 'closed' })) });
  const patched = await ns.write({
    patch_rows: [{ id: 1, note: 'x' }, { id: 2, note: 'x' }],
    patch_condition: ['state', 'Eq', 'open'],
    deletes: [3, 4],
    delete_condition: ['state', 'Eq', 'closed'],
    return_affected_ids: true,
  });
  assert.deepEqual(patched.patched_ids, [1]);
  assert.deepEqual(patched.deleted_ids, [4]);
  assert.deepEqual(await attrs('c-patch', 1), { state: 'open', note: 'x' });
  assert.deepEqual(await attrs('c-patch', 2), { state: 'closed' });
  assert.notEqual(await attrs('c-patch', 3), null);
  assert.equal(await attrs('c-patch', 4), null);
});

test('concurrent conditional upserts are race-free: the highest version wins, every other one is refused or superseded', async () => {
  const ns = server.client.namespace('c-race');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], version: 0 }] });
  const versions = [7, 3, 9, 1, 8, 2, 6, 4, 5];
  slowWal = true;
  const results = await Promise.all(versions.map((version) => ns.write({
    upsert_rows: [{ id: 1, vector: [1, 0], version }],
    upsert_condition: ['version', 'Lt', { $ref_new: 'version' }],
  }))).finally(() => { slowWal = false; });
  assert.deepEqual(await attrs('c-race', 1), { version: 9 });
  // Each accepted write saw a stored version below its own: the accepted ones, in the order they
  // were decided, rise strictly, so no two accepted writes decided on the same stored row.
  const accepted = versions.filter((_, i) => results[i]!.rows_upserted === 1);
  assert.ok(accepted.includes(9));
  assert.ok(accepted.length >= 1 && accepted.length < versions.length);
});

test('$ref_new outside a condition is a 400', async () => {
  const ns = server.client.namespace('c-bad');
  await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0], version: 1 }] });
  await assert.rejects(ns.write({ delete_by_filter: ['version', 'Eq', { $ref_new: 'version' }] }),
    (e: Error & { status?: number }) => e.status === 400 && /only in upsert_condition, patch_condition and delete_condition/.test(e.message));
  assert.deepEqual(await attrs('c-bad', 1), { version: 1 });
});
