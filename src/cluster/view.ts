// A read-only view of a namespace this node does not own, built from object storage alone: the
// manifest's segments (readers through the memory tier, section bytes through the disk tier)
// plus the WAL after the watermark replayed into a tail, exactly as the owner sees it after a
// restart. A refresh re-reads the manifest pointer and the WAL written since, so a query served
// right after a refresh sees every write acknowledged before it started (DESIGN.md §5).
import { LRUCache } from 'lru-cache';
import { Errors } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { listWalFirstPage } from '../wal/reader.ts';
import { ManifestStore } from '../manifest/manifest.ts';
import { decodeRowSet } from '../manifest/row-set.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import { residentBytes, type ReaderOptions, type SegmentReader } from '../segment/index.ts';
import type { RowSource } from '../segment/row-source.ts';
import type { ParsedQuery } from '../query/request.ts';
import { openSegmentReader, prefetchPlan } from '../namespace/objects.ts';
import type { QueryHint } from '../segment/ivf-route.ts';
import { NamespaceState, type QueryHitJson, type ReadableNamespace } from '../namespace/state.ts';
import { storageFailure } from '../namespace/failures.ts';

/** What the view needs of the memory tier: decoded readers by segment key, one load per key. */
export interface ReaderCache {
  get(key: string, load: () => Promise<{ value: SegmentReader; bytes: number }>): Promise<SegmentReader>;
  /** The reader kept under key, without making it recent; undefined when evicted. */
  peek(key: string): SegmentReader | undefined;
  delete(key: string): void;
}

/**
 * What a view holds beyond its tail (state, maps, schema, its segments' deletion sets); its
 * segment readers are the memory tier's. Taken to be an owned namespace's fixed overhead
 * (indexer/memory.ts, 24 KiB measured), less the WAL writer's buffers: not measured apart.
 */
export const VIEW_OVERHEAD_BYTES = 24 * 1024;

/** The node's memory budget as views see it (cache/memory-budget.ts). */
export interface ViewBudget {
  /** Bytes the views may hold now. */
  allowance(): number;
  /** What the views hold, after each change. */
  report(bytes: number): void;
}

export interface ViewDeps {
  store: ObjectStore;
  tmpDir: string;
  readers: ReaderCache;
  defaultEf: number;
  /** The node's reader caches and query pool (main.ts); the segment layer's defaults when absent. */
  readerOptions?: ReaderOptions;
}

export class NamespaceView implements ReadableNamespace {
  private state: NamespaceState | null = null;
  /** Date.now() when the newest successful refresh started: the data is at least this fresh. */
  refreshedAt = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private readonly manifests: ManifestStore;

  constructor(readonly name: string, private readonly deps: ViewDeps) {
    this.manifests = new ManifestStore(deps.store);
  }

  /**
   * Brings the view up to date with object storage. Refreshes take turns; a caller arriving while
   * one runs waits for the next one, which starts after it arrived and so sees its writes.
   * `hint`: the query the refresh is for; a first open reads its first IVF codes with the
   * segments (segment/ivf-route.ts).
   */
  refresh(hint?: QueryHint): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start(hint);
    const after = this.running.catch(() => {});
    this.queued = after.then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  private start(hint?: QueryHint): Promise<void> {
    const run = this.load(hint).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async load(hint?: QueryHint): Promise<void> {
    const started = Date.now();
    try {
      // The pointer's etag says whether the manifest changed: it is rewritten, with a new etag,
      // by every commit and by every re-creation of the namespace. It carries the manifest
      // (manifest.ts), so a refresh asks for the etag alone (a HEAD, as small as the GET of a
      // pointer without the copy was) and reads the pointer only when it changed. A first open
      // lists the WAL beside the pointer's GET (wal/reader.ts).
      const cur = this.state;
      if (cur && this.holdsOnlyCached(cur) && (await this.manifests.pointerEtag(this.name)) === cur.loaded.pointerEtag) {
        await cur.replay(this.deps);
      } else {
        const walFirstPage = cur ? undefined : listWalFirstPage(this.deps.store, this.name);
        const pointer = await this.manifests.loadPointer(this.name);
        if (!pointer) throw Errors.namespaceNotFound(this.name);
        // The pointer carries the manifest (manifest.ts); an older pointer names only the
        // version, whose generation is the pointer's etag: a version number can come back
        // after a namespace is deleted and created again, a pointer's bytes cannot.
        const manifest = pointer.manifest ?? await this.manifests.loadVersion(this.name, pointer.version, { generation: pointer.etag });
        const loaded = { manifest, pointerEtag: pointer.etag };
        if (loaded.manifest.deleted) throw Errors.namespaceNotFound(this.name);
        const schema = loaded.manifest.schema;
        // As the owner's open does (indexer/namespace.ts); a reader already in the memory tier
        // reads nothing. The routes (up to 4 MiB a pointer) serve this open only: a view never
        // commits, so its state does not keep them.
        const prefetch = prefetchPlan({ ...loaded, ...(pointer.routes ? { routes: pointer.routes } : {}) }, hint, this.deps.defaultEf);
        this.state = await NamespaceState.open(this.name, this.deps, loaded, async (ref) => {
          const reader = await this.deps.readers.get(ref.key, async () => ({
            value: await openSegmentReader(this.name, this.deps, schema, ref, prefetch(ref)),
            bytes: residentBytes(ref.meta),
          }));
          return new LiveSegment(ref.id, reader, decodeRowSet(ref.deletions));
        }, walFirstPage);
        if (cur) this.forgetReplaced(cur, manifest.segments);
      }
      this.refreshedAt = started;
    } catch (e) {
      throw storageFailure(e, this.name);
    }
  }

  /**
   * Whether every reader the state serves from is still the memory tier's. One the tier evicted
   * is counted nowhere in cache.memory_size: the state is rebuilt instead (its readers taken from
   * the tier again, the WAL tail replayed), not kept on it.
   */
  private holdsOnlyCached(state: NamespaceState): boolean {
    const keys = new Map(state.loaded.manifest.segments.map((ref) => [ref.id, ref.key]));
    return state.segments.every((s) => this.deps.readers.peek(keys.get(s.segmentId) ?? '') === s.reader);
  }

  /**
   * Drops from the memory tier the readers of segments the new manifest no longer lists (a
   * compaction replaced them): nobody asks for them again, so they would only take its bytes
   * until they aged out. They are not closed: a query that started on the old state may still
   * run on them, and a copied namespace's view may share one (it then reopens it at its next
   * refresh, holdsOnlyCached).
   */
  private forgetReplaced(old: NamespaceState, segments: ReadonlyArray<{ key: string }>): void {
    const kept = new Set(segments.map((ref) => ref.key));
    for (const ref of old.loaded.manifest.segments) if (!kept.has(ref.key)) this.deps.readers.delete(ref.key);
  }

  private get current(): NamespaceState {
    if (!this.state) throw new Error(`view of namespace '${this.name}' used before its first refresh`);
    return this.state;
  }

  get schema(): NamespaceSchema {
    return this.current.schema;
  }

  query(q: ParsedQuery): Promise<QueryHitJson[]> {
    return this.current.query(q, this.deps.defaultEf);
  }

  get(id: DocId): Promise<Document | null> {
    return this.current.get(id);
  }

  list(after: DocId | null, limit: number): Promise<Document[]> {
    return this.current.list(after, limit);
  }

  sources(): RowSource[] {
    return this.current.sources();
  }

  stats() {
    return this.current.stats();
  }

  /** What this view holds in memory, estimated: its tail and a fixed overhead. */
  get heldBytes(): number {
    return (this.state?.memtable.bytes ?? 0) + VIEW_OVERHEAD_BYTES;
  }

  metadata() {
    return this.current.metadata();
  }
}

/**
 * The views this node keeps, one per namespace, created on first use; at most `maxViews` and
 * within the budget's allowance for views, the least recently used dropped. A dropped view is
 * rebuilt on its next use from the manifest and the WAL tail: its segment readers stay in the
 * memory tier by key, so that is cheap.
 */
export class ViewCatalog {
  private readonly views: LRUCache<string, NamespaceView>;
  private evictions = 0;

  constructor(private readonly deps: ViewDeps, maxViews = 1000, private readonly budget?: ViewBudget) {
    this.views = new LRUCache({
      max: maxViews,
      dispose: (_view, _name, reason) => { if (reason === 'evict') this.evictions++; },
    });
  }

  /** Views dropped to stay within the bound, since start. */
  get evicted(): number {
    return this.evictions;
  }

  /** A view refreshed now (strong reads: every acknowledged write is visible). */
  async fresh(name: string, hint?: QueryHint): Promise<NamespaceView> {
    const view = this.viewOf(name);
    await this.refreshOrForget(view, hint);
    return view;
  }

  /** A view at most `maxAgeMs` old, refreshed only when older (eventual reads). */
  async recent(name: string, maxAgeMs: number, hint?: QueryHint): Promise<{ view: NamespaceView; ageMs: number }> {
    const view = this.viewOf(name);
    if (Date.now() - view.refreshedAt > maxAgeMs) await this.refreshOrForget(view, hint);
    return { view, ageMs: Math.max(0, Date.now() - view.refreshedAt) };
  }

  /**
   * The view opened once (its segments read through the cache tiers) and kept: a hint that
   * reads are coming. A view already open is left as it is; reads refresh it as they need.
   */
  async warm(name: string): Promise<void> {
    const view = this.viewOf(name);
    if (view.refreshedAt === 0) await this.refreshOrForget(view);
  }

  get size(): number {
    return this.views.size;
  }

  /** What the views hold, estimated (summed over at most maxViews views). */
  get bytes(): number {
    let bytes = 0;
    for (const view of this.views.values()) bytes += view.heldBytes;
    return bytes;
  }

  /** Drops the least recently used views while they hold more than the budget allows, keeping the one used last. */
  private withinBudget(): void {
    if (!this.budget) return;
    const allowance = this.budget.allowance();
    let bytes = this.bytes;
    while (bytes > allowance && this.views.size > 1) {
      const dropped = this.views.pop();
      if (dropped) bytes -= dropped.heldBytes;
    }
    this.budget.report(bytes);
  }

  private viewOf(name: string): NamespaceView {
    let view = this.views.get(name);
    if (!view) {
      view = new NamespaceView(name, this.deps);
      this.views.set(name, view);
    }
    return view;
  }

  private async refreshOrForget(view: NamespaceView, hint?: QueryHint): Promise<void> {
    try {
      await view.refresh(hint);
      this.withinBudget();
    } catch (e) {
      // A namespace that is gone (or never loaded) is not kept around.
      if (view.refreshedAt === 0 || (e as { code?: string }).code === 'SILT_ERR_NAMESPACE_NOT_FOUND') {
        if (this.views.get(view.name) === view) this.views.delete(view.name);
      }
      throw e;
    }
  }
}
