// A crash at every put of a restore (crash-points.test.ts style): the namespace then holds either
// its state before the restore, every acknowledged write included, or the restored one; never a
// mix, and the client's retry of the restore gives the restored state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { restoreNamespace } from '../../src/indexer/restore.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const catalogOver = (store: ObjectStore) => new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
const docs = async (ns: Namespace) => Object.fromEntries((await ns.list(null, 1000)).map((d) => [Number(d.id), d.attributes.v]));
const DAY = 86_400_000;

async function clone(from: ObjectStore): Promise<MemoryObjectStore> {
  const to = new MemoryObjectStore();
  for await (const obj of listAll(from, '')) await to.put(obj.key, (await from.get(obj.key)).body);
  return to;
}

test('a crash at any put of a restore leaves the old state or the restored one; the retry restores', async () => {
  const base = new MemoryObjectStore();
  const setup = catalogOver(base);
  await setup.create('r', schema);
  const ns = await setup.get('r');
  const write = (ids: number[], v: string) => ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: Float32Array.of(1, id), attributes: { v } })) });
  await write([1, 2], 'one');
  await flushTail(ns);
  const point = ns.loaded.manifest.version;
  await ns.write({ kind: 'delete', ids: [1n] });
  await write([3], 'tail'); // only in the WAL
  const before = { 2: 'one', 3: 'tail' };
  const restored = { 1: 'one', 2: 'one' };

  const probe = new FaultyObjectStore(await clone(base), { random: rng(0) });
  await restoreNamespace(catalogOver(probe), 'r', { version: point }, { retentionMs: DAY });
  const points = probe.journal.map((m) => `${m.op} ${m.key.replace(/[0-9a-f-]{16,}/, '…')}`);
  assert.deepEqual(points.map((p) => p.replace(/\/[^/]*$/, '/')), ['put r/seg/', 'put r/manifest/', 'put r/manifest/', 'put r/manifest/', 'put r/manifest/']);

  for (let nth = 1; nth <= points.length; nth++) {
    for (const when of ['before', 'after'] as const) {
      if (when === 'after' && nth < points.length) continue;
      const where = `crash ${when} ${points[nth - 1]} (#${nth})`;
      const inner = await clone(base);
      const store = new FaultyObjectStore(inner, { random: rng(nth) });
      store.inject({ ops: ['put', 'delete'], nth, fault: { type: 'crash', when } });
      await assert.rejects(restoreNamespace(catalogOver(store), 'r', { version: point }, { retentionMs: DAY }), /injected crash|unavailable/, where);
      const after = await docs(await catalogOver(inner).get('r'));
      const landed = when === 'after';
      assert.deepEqual(after, landed ? restored : before, `${where}: the state after a restart`);
      // The client saw a failure and retries, also when the pointer swap had landed: a restore to the same version is the same state.
      const retry = await restoreNamespace(catalogOver(inner), 'r', { version: point }, { retentionMs: DAY });
      assert.equal(retry.restored_from, point);
      assert.deepEqual(await docs(await catalogOver(inner).get('r')), restored, `${where}: after the retry`);
    }
  }
});
