// Randomized, seeded: writes, deletes, flushes, compactions, GC and restarts over two namespaces,
// through the fault wrapper injecting transient errors, timeouts, lost responses and crashes
// (the process dies at a put or delete; a new one starts over the same storage). Checked against
// a model of what each document may be:
// - an acknowledged write fixes the value; a failed one may or may not have landed, and one that
//   landed may surface later (a recovery or restart replays it), so it is appended to the
//   document's possible values; a value once read is durable (only what reached storage is ever
//   applied), so reading it rules out everything older, never anything newer;
// - at the end, without faults, every namespace flushes (at most one fencing, after a commit
//   whose outcome was unknown), nothing is unindexed, and a restart reads the model exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { withRetry } from '../../src/storage/retry.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { compactOnce } from '../../src/compaction/compactor.ts';
import { collectGarbage } from '../../src/compaction/gc.ts';
import { ManifestConflictError } from '../../src/manifest/manifest.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { rng, TEST_BUILDS, TEST_INDEXING } from '../support/app.ts';

const SEED = Number(process.env.SILT_TEST_SEED ?? 1);
// Each flush or merge builds a segment in a worker thread (~0.3 s here under load), which is
// what bounds the step count.
const STEPS = 90;
const IDS = 40;
const NAMESPACES = ['f', 'g'];
const schema = parseNamespaceSchema({ vector_dim: 2, attributes: { v: { type: 'string' } } });
const COMPACTION = { max_segments: 1, max_total_docs: 1_000_000 };
const CRASH_TARGETS = [/./, /\/manifest\/current$/, /\/manifest\/\d+\.json$/, /\/seg\//, /\/wal\//];

type Value = string | null;

interface Process {
  faults: FaultyObjectStore;
  catalog: NamespaceCatalog;
}

test(`randomized writes, maintenance, restarts and storage faults lose no acknowledged write and leave every namespace flushing (seed ${SEED})`, async () => {
  const r = rng(SEED);
  const inner = new MemoryObjectStore();
  const catalogOver = (store: ObjectStore) => new NamespaceCatalog({ store, maxBatchBytes: 1 << 20, indexing: TEST_INDEXING, tmpDir: tmpdir(), builds: TEST_BUILDS });
  const setup = catalogOver(inner);
  for (const name of NAMESPACES) await setup.create(name, schema);

  // Half the processes run with the retry layer (as on S3), half without (as on local storage).
  const start = (): Process => {
    const faults = new FaultyObjectStore(inner, { random: rng(Math.floor(r() * 2 ** 31)), sleep: async () => {} });
    faults.inject({ probability: 0.03, fault: { type: 'error' } });
    faults.inject({ probability: 0.01, fault: { type: 'timeout', ms: 1 } });
    faults.inject({ ops: ['put', 'delete'], probability: 0.04, fault: { type: 'lost_response' } });
    const store = r() < 0.5 ? withRetry(faults, { maxRetries: 1, baseDelayMs: 0, maxDelayMs: 0 }) : faults;
    return { faults, catalog: catalogOver(store) };
  };
  /** The process will die at one of its next few puts or deletes (of a kind of object, or any). */
  const armCrash = (p: Process) => {
    const key = CRASH_TARGETS[Math.floor(r() * CRASH_TARGETS.length)]!;
    p.faults.inject({ ops: ['put', 'delete'], key, nth: 1 + Math.floor(r() * 3), fault: { type: 'crash', when: r() < 0.5 ? 'before' : 'after' } });
  };
  let proc = start();
  /** Per document: the values it may have, oldest first. */
  const model = new Map<string, Value[]>();
  const slot = (ns: string, id: number) => `${ns}/${id}`;
  const counts = { acked: 0, failed: 0, flushes: 0, compactions: 0, gc: 0, restarts: 0, crashes: 0, orphaning: 0, fenced: 0, maintenanceFailed: 0 };

  const restart = async () => {
    await proc.catalog.close(new Error('restart')).catch(() => {});
    proc = start();
    if (r() < 0.5) armCrash(proc);
    counts.restarts++;
  };
  const open = (name: string): Promise<Namespace | null> => proc.catalog.get(name).catch(() => null);

  const observe = async (name: string, ns: Namespace, where: string) => {
    for (let id = 0; id < IDS; id++) {
      const possible = model.get(slot(name, id)) ?? [null];
      const got = ((await ns.get(BigInt(id)))?.attributes.v as string | undefined) ?? null;
      const at = possible.indexOf(got);
      assert.ok(at >= 0, `${where}: ${name}/${id} is ${got}, expected one of ${possible.map(String).join(', ')}`);
      model.set(slot(name, id), possible.slice(at));
    }
  };

  /** Flush, compaction and GC as the background indexer runs them: a conflict fences (reopen). */
  const maintain = async (name: string, task: (ns: Namespace) => Promise<unknown>) => {
    const ns = await open(name);
    if (!ns) return false;
    try {
      await task(ns);
      return true;
    } catch (e) {
      if (e instanceof ManifestConflictError) {
        counts.fenced++;
        await proc.catalog.evict(ns);
      } else {
        counts.maintenanceFailed++;
      }
      return false;
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const t0 = Date.now();
    const name = NAMESPACES[Math.floor(r() * NAMESPACES.length)]!;
    const roll = r();
    if (roll < 0.12) {
      armCrash(proc);
    } else if (roll < 0.6) {
      const ns = await open(name);
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * IDS)))];
      const del = r() < 0.25;
      const value: Value = del ? null : `s${step}`;
      const ok = ns !== null && await (del
        ? ns.write({ kind: 'delete', ids: ids.map(BigInt) })
        : ns.write({ kind: 'upsert', docs: ids.map((id) => ({ id: BigInt(id), vector: new Float32Array([1, id]), attributes: { v: value! } })) })
      ).then(() => true, () => false);
      for (const id of ids) {
        model.set(slot(name, id), ok ? [value] : [...(model.get(slot(name, id)) ?? [null]), value]);
      }
      counts[ok ? "acked" : "failed"]++;
    } else if (roll < 0.71) {
      if (await maintain(name, (ns) => flushTail(ns))) counts.flushes++;
    } else if (roll < 0.78) {
      if (await maintain(name, (ns) => compactOnce(ns, COMPACTION))) counts.compactions++;
    } else if (roll < 0.87) {
      const store = proc.faults;
      if (await maintain(name, (ns) => ns.exclusive(() => collectGarbage(store, name, ns.loaded.manifest, 0, Date.now() + 1000)))) counts.gc++;
    } else if (roll < 0.93) {
      await restart();
    }
    if (proc.faults.crashed) {
      counts.crashes++;
      // Dying between a manifest version and the pointer swap leaves an orphan version.
      if (/manifest\/\d+\.json' \(after\)|manifest\/current' \(before\)/.test(proc.faults.crashedAt ?? '')) counts.orphaning++;
      await restart();
    }
    const ns = await open(name);
    if (ns) await observe(name, ns, `step ${step}`);
    if (process.env.DEBUG_MODEL) console.log('step', step, roll.toFixed(2), Date.now() - t0, 'ms');
  }

  // Settle without faults: every namespace must flush again, and a restart must read the model.
  await proc.catalog.close(new Error('done')).catch(() => {});
  const clean = catalogOver(inner);
  for (const name of NAMESPACES) {
    let ns = await clean.get(name);
    await observe(name, ns, 'settle');
    const flushed = await flushTail(ns).catch(async (e: unknown) => {
      // One fencing is allowed: the last commit's outcome was unknown and it had in fact landed.
      if (!(e instanceof ManifestConflictError)) throw e;
      await clean.evict(ns);
      ns = await clean.get(name);
      return flushTail(ns);
    });
    assert.notEqual(flushed, undefined);
    assert.equal(ns.stats().unindexed_documents, 0, `${name} has nothing left unindexed`);
    await compactOnce(ns, COMPACTION);
    await ns.exclusive(() => collectGarbage(inner, name, ns.loaded.manifest, 0, Date.now() + 1000));
  }
  const final = catalogOver(inner);
  for (const name of NAMESPACES) {
    const ns = await final.get(name);
    await observe(name, ns, 'after the final restart');
    const live = [...model.entries()].filter(([k, v]) => k.startsWith(`${name}/`) && v[0] !== null).length;
    assert.equal(ns.stats().documents, live, `${name}: document count`);
  }
  if (process.env.DEBUG_MODEL) console.log(JSON.stringify(counts));
  // The run exercised what it claims to.
  for (const key of ['acked', 'failed', 'flushes', 'compactions', 'gc', 'restarts', 'crashes', 'orphaning'] as const) {
    assert.ok(counts[key] >= 1, `${key}: ${JSON.stringify(counts)}`);
  }
});
