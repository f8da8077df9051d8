// The namespaces this node serves: created, opened lazily on first use, deleted. Operations on
// one name are serialized, so a delete never races a create or an open of the same namespace.
// Opened namespaces are closed again when idle or over the memory budget (namespace-uses.ts says
// which); listing is storage/namespace-list.ts, removing objects catalog-objects.ts.
import { Errors } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { listWalFirstPage } from '../wal/reader.ts';
import type { QueryHint } from '../segment/ivf-route.ts';
import { ManifestStore, type LoadedManifest } from '../manifest/manifest.ts';
import { catalogKey } from '../storage/layout.ts';
import { schemaDifference } from '../schema/parse.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import { Namespace, type NamespaceDeps } from './namespace.ts';
import { storageFailure } from '../namespace/failures.ts';
import { WriteAdmission } from './backpressure.ts';
import pLimit from 'p-limit';
import { flushTail } from './flush.ts';
import { SHUTDOWN_FLUSH_CONCURRENCY } from './flush-all.ts';
import { lendersOf, sweepLender, type RetentionWindow } from '../manifest/shared.ts';
import { leastRecentCovering, openMemory, type OpenMemory } from './memory.ts';
import { NamespaceUses } from './namespace-uses.ts';
import { removeNamespaceObjects } from './catalog-objects.ts';
import { listNamespacePage, listNamespaces } from '../storage/namespace-list.ts';

/** compaction.gc_grace_secs and history_retention_secs defaults, for catalogs built without them. */
const DEFAULT_WINDOW: RetentionWindow = { graceMs: 300_000, retentionMs: 604_800_000 };

/** After an open, how soon the memory budget is checked: at most one scan of the open namespaces per period. */
const BUDGET_CHECK_MS = 100;
/** A budget close goes down to this share of the budget, so the next opens do not each close one. */
const BUDGET_LOW_WATER = 0.9;

export class NamespaceCatalog {
  private readonly open = new Map<string, Promise<Namespace>>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly manifests: ManifestStore;
  private readonly ready = new Map<string, Namespace>();
  /** Backpressure: one admission for the node, over the tails of every namespace open here. */
  readonly admission: WriteAdmission;
  /** Called once for each namespace opened (the background indexer hooks in here). */
  onOpen: ((ns: Namespace) => void) | null = null;
  /**
   * Called when an idle namespace is being closed, before its last flush; resolves once nothing
   * else (the background indexer) will touch it again.
   */
  onClose: ((ns: Namespace) => Promise<void>) | null = null;
  /** Failures of the flush before an idle close (the tail then stays in the WAL). */
  onCloseError: ((ns: Namespace | null, err: unknown) => void) | null = null;
  /** When each open namespace last served a request (read or write). */
  private readonly uses = new NamespaceUses();
  private closedIdle = 0;
  private closedMemory = 0;
  /**
   * Bytes the open namespaces may hold (tails, segments, fixed overhead) before the least recently
   * used are closed; main.ts derives it from cache.memory_size. Unbounded unless set.
   */
  memoryBudget: () => number = () => Infinity;
  /** Told what the open namespaces hold at each budget check (main.ts: the node's MemoryBudget). */
  reportMemory: (bytes: number) => void = () => {};
  private budgetCheck: ReturnType<typeof setTimeout> | null = null;
  private budgetClosing: Promise<number> | null = null;

  constructor(private readonly deps: NamespaceDeps, readonly now: () => number = Date.now) {
    this.manifests = new ManifestStore(deps.store);
    // Summed at each write: 2,000 open namespaces cost a few microseconds, and no counter can drift.
    this.admission = new WriteAdmission(deps.indexing, () => {
      let bytes = 0;
      for (const ns of this.ready.values()) bytes += ns.unindexedBytes;
      return bytes;
    });
  }

  get store(): ObjectStore {
    return this.deps.store;
  }

  get window(): RetentionWindow {
    return this.deps.history ?? DEFAULT_WINDOW;
  }

  /**
   * Runs fn after every earlier operation (create, open, delete, restore, copy) on each of `names`
   * has finished, holding them all. They are taken in one order, so two calls never deadlock.
   */
  serialized<T>(names: string[], fn: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(names)].sort();
    if (first === undefined) return fn();
    return this.exclusive(first, () => this.serialized(rest, fn));
  }

  /** Removes what a deleted incarnation of `name` left, before a new first manifest is written. */
  clearForCreate(name: string): Promise<void> {
    return this.removeObjects(name, false);
  }

  /** Drops any open instance of `name` without touching storage: another path just created it. */
  forget(name: string): void {
    this.open.delete(name);
    this.ready.delete(name);
  }

  /** The namespace's current manifest, read from storage; 404 when it does not exist. */
  async loadManifest(name: string): Promise<LoadedManifest> {
    const loaded = await guard(name, () => this.manifests.load(name));
    if (!loaded || loaded.manifest.deleted) throw Errors.namespaceNotFound(name);
    return loaded;
  }

  /** fn with storage errors translated as every catalog operation translates them. */
  guarded<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return guard(name, fn);
  }

  /** Runs fn after every earlier operation on `name` has finished. */
  private exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const run = prev.catch(() => {}).then(fn);
    const tail = run.catch(() => {});
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return run;
  }

  /** Returns true when created, false when it already existed with the same schema. */
  create(name: string, schema: NamespaceSchema): Promise<boolean> {
    return this.exclusive(name, async () => {
      const existing = await guard(name, () => this.manifests.load(name));
      if (existing && !existing.manifest.deleted) {
        const diff = schemaDifference(existing.manifest.schema, schema);
        if (diff) throw Errors.schemaConflict(name, diff);
        await guard(name, () => this.store.put(catalogKey(name), Buffer.alloc(0)));
        return false;
      }
      await this.createAndOpen(name, schema, existing);
      return true;
    });
  }

  /**
   * The namespace, created with `schema` first when it does not exist (turbopuffer's implicit
   * creation on first write). `created` says which; an existing one keeps its own schema.
   */
  async ensure(name: string, schema: () => NamespaceSchema): Promise<{ ns: Namespace; created: boolean }> {
    if (this.ready.has(name)) return { ns: await this.get(name), created: false };
    const created = await this.exclusive(name, async () => {
      const existing = await guard(name, () => this.manifests.load(name));
      if (existing && !existing.manifest.deleted) return false;
      await this.createAndOpen(name, schema(), existing);
      return true;
    });
    return { ns: await this.get(name), created };
  }

  /** The open namespace; 404 when it does not exist. `hint`: the query about to run, whose first IVF codes an open reads with it (segment/ivf-route.ts). */
  get(name: string, hint?: QueryHint): Promise<Namespace> {
    // Every request takes its namespace here and uses it before yielding to a timer, so a touch
    // here is what keeps closeIdle away from a namespace a request is using.
    this.uses.touch(name, this.now());
    const cached = this.open.get(name);
    if (cached) return cached;
    return this.exclusive(name, () => {
      let p = this.open.get(name);
      if (!p) {
        p = this.load(name, undefined, hint);
        this.open.set(name, p);
        // A failed open (missing, corrupt, storage down) is retried on the next request.
        p.catch(() => {
          if (this.open.get(name) === p) this.drop(name);
        });
      }
      return p;
    });
  }

  /**
   * Under the name's lock: the first manifest and the catalog marker, then the namespace opened
   * from that manifest, so that the first write (the usual next request) reads no manifest again.
   */
  private async createAndOpen(name: string, schema: NamespaceSchema, existing: LoadedManifest | null): Promise<void> {
    if (existing) await guard(name, () => this.removeObjects(name, false));
    const loaded = await guard(name, () => this.manifests.create(name, schema, existing));
    await guard(name, () => this.store.put(catalogKey(name), Buffer.alloc(0)));
    this.ready.delete(name);
    this.uses.touch(name, this.now());
    const p = this.load(name, loaded);
    this.open.set(name, p);
    await p.catch(() => {
      if (this.open.get(name) === p) this.drop(name);
    });
  }

  /** Forgets `name` as open: the next get() opens it again (once the caller's lock is released). */
  private drop(name: string): void {
    this.ready.delete(name);
    this.open.delete(name);
    this.uses.forget(name);
  }

  private async load(name: string, known?: LoadedManifest, hint?: QueryHint): Promise<Namespace> {
    // The WAL is listed beside the pointer's GET (wal/reader.ts): one round trip less on a cold open.
    const walFirstPage = known ? undefined : listWalFirstPage(this.deps.store, name);
    const loaded: LoadedManifest | null = known ?? await guard(name, () => this.manifests.load(name));
    if (!loaded || loaded.manifest.deleted) throw Errors.namespaceNotFound(name);
    const ns = await guard(name, () => Namespace.open(name, this.deps, loaded, this.admission, walFirstPage, hint));
    this.ready.set(name, ns);
    this.onOpen?.(ns);
    this.scheduleBudgetCheck();
    return ns;
  }

  /**
   * Forgets an open namespace whose manifest another writer changed (it lost a compare-and-swap):
   * its queued writes fail with 409 and the next request reopens it from object storage, on top
   * of the other writer's state.
   */
  evict(ns: Namespace): Promise<void> {
    return this.exclusive(ns.name, async () => {
      if (this.ready.get(ns.name) !== ns) return;
      this.drop(ns.name);
      await ns.close(Errors.writeConflict(ns.name));
    });
  }

  /**
   * Closes every namespace without a request for indexing.idle_close_secs (see closeEach).
   */
  async closeIdle(): Promise<number> {
    const idleMs = this.deps.indexing.idle_close_secs * 1000;
    const isIdle = (name: string) => this.uses.isIdle(name, this.now(), idleMs);
    const closed = await this.closeEach([...this.ready.keys()].filter(isIdle), isIdle);
    this.closedIdle += closed;
    return closed;
  }

  /**
   * While the open namespaces' estimated memory is over memoryBudget(), closes the least
   * recently used down to BUDGET_LOW_WATER of it, never the one used last. Runs one at a time:
   * a call while one runs gets that one's count. Chosen in a task of its own (a timer, or a
   * caller that awaited), after the requests that took a namespace have used it; one taken again
   * after being chosen is kept.
   */
  closeOverBudget(): Promise<number> {
    this.budgetClosing ??= this.closeLeastRecent().finally(() => { this.budgetClosing = null; });
    return this.budgetClosing;
  }

  private async closeLeastRecent(): Promise<number> {
    const budget = this.memoryBudget();
    const total = this.memory().total;
    this.reportMemory(total);
    if (total <= budget) return 0;
    const chosen = leastRecentCovering(this.uses.leastRecentFirst(), this.ready, total - budget * BUDGET_LOW_WATER);
    const closed = await this.closeEach([...chosen.keys()], (name) => this.uses.unusedSince(name, chosen.get(name)!));
    this.closedMemory += closed;
    this.reportMemory(this.memory().total);
    return closed;
  }

  private scheduleBudgetCheck(): void {
    if (this.budgetCheck || this.memoryBudget() === Infinity) return;
    this.budgetCheck = setTimeout(() => {
      this.budgetCheck = null;
      void this.closeOverBudget().catch((e: unknown) => this.onCloseError?.(null, e));
    }, BUDGET_CHECK_MS);
    this.budgetCheck.unref();
  }

  /**
   * Closes the namespaces named that are still `eligible` once their turn on the name's lock
   * comes: the tail flushed first (a failed flush leaves it in the WAL, which the next open
   * replays), then the writer drained, the segments closed. A namespace leaves the maps before
   * anything is awaited, so a request arriving meanwhile waits on the name's lock and reopens it
   * once the close is done.
   */
  private async closeEach(names: string[], eligible: (name: string) => boolean): Promise<number> {
    let closed = 0;
    const limit = pLimit(SHUTDOWN_FLUSH_CONCURRENCY);
    await Promise.all(names.map((name) => limit(() => this.exclusive(name, async () => {
      const ns = this.ready.get(name);
      if (!ns || !eligible(name)) return;
      this.drop(name);
      await this.onClose?.(ns);
      await flushTail(ns).catch((e: unknown) => this.onCloseError?.(ns, e));
      // Requests use a namespace right after taking it from get(), and that touch made it not
      // eligible, so no request is left holding this instance: the reason is never seen by a client.
      await ns.close(Errors.shuttingDown());
      await ns.closeReaders();
      closed++;
    }))));
    return closed;
  }

  /**
   * Runs fn with the namespace closed and every acknowledged write folded into its current
   * manifest (a restore or copy commits on top of that). Writes that arrive meanwhile wait on
   * the name's lock; one already holding the closed instance gets a 409 and is retried by the
   * client. The next request reopens the namespace from whatever fn committed. A failed flush
   * fails the whole call, with nothing changed.
   */
  quiesce<T>(name: string, fn: (loaded: LoadedManifest) => Promise<T>): Promise<T> {
    return this.exclusive(name, async () => {
      let ns = this.ready.get(name);
      // Not open here: open it, so that a tail left in the WAL is flushed like any other.
      if (!ns) ns = await this.load(name);
      this.drop(name);
      await this.onClose?.(ns);
      await ns.close(Errors.writeConflict(name));
      const closing = ns;
      try {
        await guard(name, () => flushTail(closing));
      } finally {
        await closing.closeReaders();
      }
      return fn(await this.loadManifest(name));
    });
  }

  /** What the open namespaces hold, estimated (src/indexer/memory.ts). */
  memory(): OpenMemory {
    return openMemory(this.ready.values());
  }

  /** Namespaces closed to stay within memoryBudget() since the node started. */
  get closedMemoryTotal(): number {
    return this.closedMemory;
  }

  /** Namespaces closed for idleness since the node started. */
  get closedIdleTotal(): number {
    return this.closedIdle;
  }

  /** The namespaces open right now. */
  openNamespaces(): Namespace[] {
    return [...this.ready.values()];
  }

  /** One page of namespace names in order (storage/namespace-list.ts). */
  listPage(prefix: string, pageSize: number, cursor: string | null): Promise<{ names: string[]; next: string | null }> {
    return guard('(catalog)', () => listNamespacePage(this.store, prefix, pageSize, cursor));
  }

  list(): Promise<string[]> {
    return guard('(catalog)', () => listNamespaces(this.store));
  }

  /**
   * Marks the manifest deleted (fencing any other writer), then removes the namespace's objects:
   * data first, then the pointer, then the manifest versions. A crash before the pointer goes
   * leaves a deleted manifest that the next create of the same name finishes cleaning up; one
   * after it leaves only versions no pointer names, which the next create numbers past.
   */
  delete(name: string): Promise<void> {
    return this.exclusive(name, async () => {
      const loaded = await guard(name, () => this.manifests.load(name));
      if (!loaded || loaded.manifest.deleted) throw Errors.namespaceNotFound(name);
      const open = this.open.get(name);
      this.drop(name);
      if (open) {
        const ns = await open.catch(() => null);
        await ns?.close(Errors.namespaceNotFound(name));
      }
      await guard(name, () => this.store.delete(catalogKey(name)));
      const current = await guard(name, () => this.manifests.load(name));
      if (current && !current.manifest.deleted) {
        await guard(name, () => this.manifests.commit(name, current, { deleted: true }));
      }
      await guard(name, () => this.removeObjects(name, true));
      // Namespaces it borrowed segments from that are gone too: their prefix is nobody else's to clean.
      for (const lender of lendersOf(name, current?.manifest ?? loaded.manifest)) {
        await guard(name, () => sweepLender(this.store, lender, this.window, this.now()));
      }
    });
  }

  private removeObjects(name: string, all: boolean): Promise<void> {
    return removeNamespaceObjects(this.store, name, all, this.window, this.now());
  }

  /** Closes every open namespace, waiting for queued writes. */
  async close(reason: Error): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    this.ready.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close(reason)));
  }
}

/** Storage errors become 503s (409 for a lost conditional write); Silt errors pass through. */
async function guard<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storageFailure(e, name);
  }
}
