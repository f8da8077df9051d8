// A crash at every put and delete of flush, compaction, GC and namespace create/delete: the
// process dies there (the fault wrapper fails every later call), a new process opens the same
// storage, every acknowledged write is there, and the namespace flushes and collects garbage
// again (and compacts again, after a crash in compaction: flush and compaction commit alike). The put/delete points are learnt from a run without faults, so a new write in
// any of these paths is covered without editing this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore, type Mutation } from '../../src/storage/fault.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const MERGE_ALL = { max_segments: 1, max_total_docs: 1_000_000 };
type Model = Map<number, string | null>;

const catalogOver = (store: ObjectStore) => new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });

async function upsert(ns: Namespace, model: Model, ids: number[], v: string) {
  await ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v } })) });
  ids.forEach((id) => model.set(id, v));
}

/** Two segments, a deletion and a tail: every kind of state a crash can interrupt. */
async function setup(store: ObjectStore, model: Model, name = 'k') {
  const catalog = catalogOver(store);
  await catalog.create(name, schema);
  const ns = await catalog.get(name);
  await upsert(ns, model, range(0, 20), 'one');
  await flushTail(ns);
  await upsert(ns, model, range(10, 30), 'two');
  await flushTail(ns);
  await ns.write({ kind: 'delete', ids: [0n, 1n] });
  model.set(0, null).set(1, null);
  await upsert(ns, model, range(25, 40), 'three');
  return { catalog, ns };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

async function assertModel(ns: Namespace, model: Model, where: string) {
  for (const [id, v] of model) {
    assert.equal((await ns.get(BigInt(id)))?.attributes.v ?? null, v, `${where}: document ${id}`);
  }
  assert.equal(ns.stats().documents, [...model.values()].filter((v) => v !== null).length, `${where}: document count`);
}

/** After the crash: a new process sees everything, and every maintenance step works again. */
async function recoverAndCheck(inner: MemoryObjectStore, model: Model, where: string, name = 'k', compact = true) {
  const ns = await catalogOver(inner).get(name);
  await assertModel(ns, model, `${where}, after restart`);
  await upsert(ns, model, [1000], 'after');
  assert.equal(await flushTail(ns), true, `${where}: flushes again`);
  assert.equal(ns.stats().unindexed_documents, 0);
  if (compact) {
    await compactOnce(ns, MERGE_ALL);
    assert.equal(ns.segments.length, 1, `${where}: compacts again`);
  }
  await collectGarbage(inner, name, ns.loaded.manifest, 0, Date.now() + 1000);
  const again = await catalogOver(inner).get(name);
  await assertModel(again, model, `${where}, after recovery and GC`);
}

type Action = (ctx: { store: FaultyObjectStore; catalog: NamespaceCatalog; ns: Namespace }) => Promise<unknown>;

/** A copy of everything stored: each crash point starts from the same state, set up once. */
async function clone(from: ObjectStore): Promise<MemoryObjectStore> {
  const to = new MemoryObjectStore();
  for await (const obj of listAll(from, '')) await to.put(obj.key, (await from.get(obj.key)).body);
  return to;
}

/** The state every crash point starts from: `setup`, then `prepare`, by a process that then exits. */
async function baseline(prepare: (ns: Namespace) => Promise<unknown> = async () => {}) {
  const store = new MemoryObjectStore();
  const model: Model = new Map();
  const { ns } = await setup(store, model);
  await prepare(ns);
  return { store, model };
}

/**
 * Runs `action` in a process that opened the baseline from storage, once without faults to
 * learn its mutations, then once per crash point (crashing after mutation n is crashing before
 * n + 1, so only the last gets an "after"). Returns the mutations.
 */
async function crashEverywhere(base: { store: MemoryObjectStore; model: Model }, action: Action, compact: boolean): Promise<Mutation[]> {
  const run = async (crashAt: { nth: number; when: 'before' | 'after' } | null) => {
    const inner = await clone(base.store);
    const store = new FaultyObjectStore(inner, { random: rng(crashAt?.nth ?? 0) });
    const catalog = catalogOver(store);
    const ns = await catalog.get('k');
    const before = store.journal.length;
    if (crashAt) store.inject({ ops: ['put', 'delete'], nth: crashAt.nth, fault: { type: 'crash', when: crashAt.when } });
    const outcome = await action({ store, catalog, ns }).then(() => null, (e: unknown) => e);
    return { inner, store, outcome, mutations: store.journal.slice(before) };
  };
  const clean = await run(null);
  assert.equal(clean.outcome, null, 'the action succeeds without faults');
  assert.ok(clean.mutations.length > 0);
  for (let nth = 1; nth <= clean.mutations.length; nth++) {
    for (const when of ['before', 'after'] as const) {
      if (when === 'after' && nth < clean.mutations.length) continue;
      const { inner, store, outcome } = await run({ nth, when });
      const m = clean.mutations[nth - 1]!;
      const point = `crash ${when} ${m.op} #${nth} (${m.key.replace(/[0-9a-f-]{16,}/, '…')})`;
      assert.ok(store.crashed, `${point}: the crash happened`);
      assert.ok(outcome, `${point}: the interrupted action reports a failure`);
      await recoverAndCheck(inner, new Map(base.model), point, 'k', compact);
    }
  }
  return clean.mutations;
}

const kinds = (ms: Mutation[]) => ms.map((m) => `${m.op} ${m.key.replace(/^k\//, '').replace(/\/[^/]*$/, '/')}`);

test('a crash at any put of a flush: nothing acknowledged lost, the namespace flushes again', async () => {
  const points = await crashEverywhere(await baseline(), ({ ns }) => flushTail(ns), false);
  assert.deepEqual(kinds(points), ['put seg/', 'put manifest/', 'put manifest/']);
});

test('a crash at any put of a compaction: nothing lost, it flushes and compacts again', async () => {
  const points = await crashEverywhere(await baseline(), ({ ns }) => compactOnce(ns, MERGE_ALL), true);
  assert.deepEqual(kinds(points), ['put seg/', 'put manifest/', 'put manifest/']);
});

test('a crash at any delete of a GC: nothing lost, it flushes and compacts again', async () => {
  const base = await baseline(async (ns) => {
    await flushTail(ns);
    await compactOnce(ns, MERGE_ALL);
  });
  const points = await crashEverywhere(base, ({ store, ns }) => collectGarbage(store, 'k', ns.loaded.manifest, 0, Date.now() + 1000), false);
  const deleted = kinds(points);
  for (const what of ['delete seg/', 'delete wal/', 'delete manifest/']) assert.ok(deleted.includes(what), `GC deletes ${what}`);
});

test('a crash at any put or delete of a namespace create or delete leaves a name that can be created and used', async () => {
  const base = await baseline();
  for (const op of ['create', 'delete'] as const) {
    const name = op === 'create' ? 'fresh' : 'k';
    const action: Action = ({ catalog }) => (op === 'create' ? catalog.create(name, schema) : catalog.delete(name));
    const probe = new FaultyObjectStore(await clone(base.store), { random: rng(0) });
    await action({ store: probe, catalog: catalogOver(probe), ns: null as unknown as Namespace });
    const points = probe.journal.length;
    for (let nth = 1; nth <= points + 1; nth++) {
      const inner = await clone(base.store);
      const store = new FaultyObjectStore(inner, { random: rng(nth) });
      store.inject({ ops: ['put', 'delete'], nth: Math.min(nth, points), fault: { type: 'crash', when: nth > points ? 'after' : 'before' } });
      await assert.rejects(action({ store, catalog: catalogOver(store), ns: null as unknown as Namespace }),
        (e: { code?: string; logFields?: { storage_error?: string } }) =>
          e.code === 'SILT_ERR_STORAGE_UNAVAILABLE' && /injected crash/.test(e.logFields?.storage_error ?? ''));
      // The client saw a failure and repeats its request, as it must; then the name works.
      const catalog = catalogOver(inner);
      const where = `${op} crash #${nth} of ${points + 1}`;
      if (op === 'delete') {
        await catalog.delete(name).catch((e: { code?: string }) => assert.equal(e.code, 'SILT_ERR_NAMESPACE_NOT_FOUND', where));
      }
      await catalog.create(name, schema);
      const ns = await catalog.get(name);
      assert.equal(ns.stats().documents, 0, `${where}: a new namespace starts empty`);
      const model: Model = new Map();
      await upsert(ns, model, [1, 2], 'new');
      assert.ok((await catalog.list()).includes(name), `${where}: the namespace is listed`);
      await recoverAndCheck(inner, model, where, name, false);
    }
  }
});
