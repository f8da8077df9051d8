// One open namespace on the node that owns it: the shared namespace state (manifest, live
// segments, the in-memory tail) plus the WAL writer and write admission. Writes are validated
// before they reach the writer, so a batch is applied whole or not at all; they are acknowledged
// only once their WAL object is durable.
import type { SiltConfig } from '../config/index.ts';
import type { ListPage, ObjectStore } from '../storage/object-store.ts';
import { ManifestStore, type LoadedManifest, type SegmentRef } from '../manifest/manifest.ts';
import { decodeRowSet } from '../manifest/row-set.ts';
import { idKey } from '../schema/document.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { WalEntry, WalOp } from '../wal/format.ts';
import { WalWriter } from '../wal/writer.ts';
import type { ReaderOptions, SegmentBuilds } from '../segment/index.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import type { RowSource } from '../segment/row-source.ts';
import type { CompiledFilter } from '../query/filter/index.ts';
import { matchingRows } from '../query/executor.ts';
import type { ParsedQuery } from '../query/request.ts';
import type { Memtable } from '../namespace/memtable.ts';
import { storageFailure } from '../namespace/failures.ts';
import { openSegmentReader, prefetchPlan } from '../namespace/objects.ts';
import type { OpenSegmentOptions } from '../segment/reader.ts';
import type { QueryHint } from '../segment/ivf-route.ts';
import { NamespaceState, type QueryHitJson, type ReadableNamespace } from '../namespace/state.ts';
import type { WriteAdmission } from './backpressure.ts';
import type { NodeMetrics } from '../metrics.ts';
import type { RetentionWindow } from '../manifest/shared.ts';

export type { QueryHitJson } from '../namespace/state.ts';

export type WriteRequest =
  | { kind: 'upsert'; docs: Document[] }
  | { kind: 'delete'; ids: DocId[] }
  | { kind: 'delete_filter'; filter: CompiledFilter }
  /**
   * A write decided on the owner when its turn comes (conditional writes, patches): `resolve`
   * reads the state as of every earlier write and returns the ops to log. `bytes` estimates
   * its size for backpressure.
   */
  | { kind: 'resolve'; bytes: number; resolve: (state: WriteState) => Promise<ResolvedWrite> };

/** The state a resolved write sees: every write applied or sealed before it, in order. */
export interface WriteState {
  /** A Promise: the stored version's vector may live in IVF blocks read on demand. */
  get(id: DocId): Promise<Document | null>;
  /** Ids of the live documents passing `filter`. */
  matching(filter: CompiledFilter): DocId[];
}

export interface ResolvedWrite {
  ops: WalOp[];
  /** What the request reports back; its ops are all applied or none. */
  detail: unknown;
}

export interface WriteResult {
  /** Documents written (upsert) or deleted (delete, delete by filter). */
  count: number;
  /** A resolved write's own report. */
  detail?: unknown;
}

export type IndexingOptions = SiltConfig['indexing'];

export interface NamespaceDeps {
  store: ObjectStore;
  maxBatchBytes: number;
  indexing: IndexingOptions;
  /** Scratch space for hnswlib's index files. */
  tmpDir: string;
  /** The node's segment build threads, shared by flush and merge of every namespace. */
  builds: SegmentBuilds;
  /** The node's reader caches and query pool (main.ts); the segment layer's defaults when absent. */
  readerOptions?: ReaderOptions;
  /** The node's metrics (WAL commit and build durations); absent in tests that do not look. */
  metrics?: NodeMetrics;
  /** GC grace and history retention, for deletes of namespaces whose segments copies share; the config defaults when absent. */
  history?: RetentionWindow;
}

/** Opens a manifest's segment from object storage with ranged reads of its sections. */
export async function openSegment(ns: string, deps: NamespaceDeps, schema: NamespaceSchema, ref: SegmentRef, prefetch?: OpenSegmentOptions['prefetch']): Promise<LiveSegment> {
  return new LiveSegment(ref.id, await openSegmentReader(ns, deps, schema, ref, prefetch), decodeRowSet(ref.deletions));
}

export class Namespace implements ReadableNamespace {
  /** Set by the background indexer when the tail passes a threshold. */
  onTailGrowth: (() => void) | null = null;
  /** Estimated bytes of writes accepted but not yet applied. */
  private pendingBytes = 0;
  private readonly writer: WalWriter<WriteRequest, WriteResult>;
  private maintenance: Promise<void> = Promise.resolve();

  private constructor(
    readonly name: string,
    readonly deps: NamespaceDeps,
    /** Segments, tail and manifest; its segment list is changed only by the segment updater. */
    readonly state: NamespaceState,
    private readonly admission: WriteAdmission,
  ) {
    this.writer = new WalWriter(deps.store, name, state.lastSeq + 1, deps.maxBatchBytes, {
      seal: (payloads) => this.seal(payloads),
      apply: (entry, bytes) => this.apply(entry, bytes),
      recover: (fromSeq) => this.catchUp(fromSeq - 1).then((last) => last + 1),
      failure: (e) => storageFailure(e, name),
      committed: (seconds) => deps.metrics?.walCommit.observe(seconds),
    });
  }

  /** Opens the manifest's segments and replays the WAL after its watermark into the tail. */
  /** `hint`: the query that opens it, whose first IVF codes are read with the open (segment/ivf-route.ts). */
  static async open(name: string, deps: NamespaceDeps, loaded: LoadedManifest, admission: WriteAdmission, walFirstPage?: Promise<ListPage>, hint?: QueryHint): Promise<Namespace> {
    const prefetch = prefetchPlan(loaded, hint, deps.indexing.hnsw_ef_search);
    const state = await NamespaceState.open(name, deps, loaded, (ref) =>
      openSegment(name, deps, loaded.manifest.schema, ref, prefetch(ref)), walFirstPage);
    return new Namespace(name, deps, state, admission);
  }

  get loaded(): LoadedManifest {
    return this.state.loaded;
  }

  get segments(): readonly LiveSegment[] {
    return this.state.segments;
  }

  get memtable(): Memtable {
    return this.state.memtable;
  }

  get schema(): NamespaceSchema {
    return this.state.schema;
  }

  /** The seq of the last WAL entry applied to the in-memory state. */
  get lastAppliedSeq(): number {
    return this.writer.lastSeq;
  }

  /** Bytes not yet folded into segments: the WAL after the watermark and the writes in flight. */
  get unindexedBytes(): number {
    return this.state.walBytes + this.pendingBytes;
  }

  /** True while writes are refused for backpressure: the tail must be flushed now. */
  get overLimit(): boolean {
    return this.unindexedBytes > 0 && this.admission.refuses(this.unindexedBytes);
  }

  /** Appends a write to the WAL; 429 (nothing applied) while the tail is over its limit. */
  write(request: WriteRequest): Promise<{ seq: number; result: WriteResult }> {
    try {
      this.admission.check(this.name, this.unindexedBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    const bytes = request.kind === 'upsert'
      ? request.docs.length * (this.schema.vector_dim * 4 + 128)
      : request.kind === 'delete' ? request.ids.length * 32 : request.kind === 'resolve' ? request.bytes : 64;
    this.pendingBytes += bytes;
    return this.writer.append(request, bytes).finally(() => {
      this.pendingBytes -= bytes;
    });
  }

  /** Sources newest first: the tail, then segments from the most recent. */
  sources(): RowSource[] {
    return this.state.sources();
  }

  get(id: DocId): Promise<Document | null> {
    return this.state.get(id);
  }

  list(after: DocId | null, limit: number): Promise<Document[]> {
    return this.state.list(after, limit);
  }

  query(q: ParsedQuery): Promise<QueryHitJson[]> {
    return this.state.query(q, this.deps.indexing.hnsw_ef_search);
  }

  metadata() {
    return { ...this.state.metadata(), unindexed_bytes: this.unindexedBytes };
  }

  /** GET /v1/namespaces/:ns's numbers, with the tail's size against its backpressure limit. */
  stats() {
    return { ...this.state.stats(), unindexed_bytes: this.unindexedBytes, unindexed_limit_bytes: this.admission.namespaceLimit };
  }

  /**
   * Runs fn after every earlier index maintenance task (flush, merge, GC) of this namespace:
   * they all rewrite the manifest, so they take turns instead of racing each other's CAS.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(fn);
    this.maintenance = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Closes the segment readers of this (closed) namespace after any flush or merge queued on it. */
  closeReaders(): Promise<void> {
    return this.exclusive(async () => {
      for (const segment of this.segments) segment.reader.close();
    });
  }

  /**
   * Commits the schema `change` makes of the current one (null: nothing to change; it throws to
   * refuse) to the manifest, then serves it: the tail is rebuilt under it so new full-text
   * fields are indexed. Takes the maintenance turn, so it never races a flush's or merge's
   * manifest commit, and `change` sees the schema as every earlier change left it.
   */
  changeSchema(change: (current: NamespaceSchema) => NamespaceSchema | null): Promise<NamespaceSchema> {
    return this.exclusive(async () => {
      const next = change(this.schema);
      if (next === null) return this.schema;
      const loaded = await new ManifestStore(this.deps.store).commit(this.name, this.loaded, { schema: next })
        .catch((e: unknown) => { throw storageFailure(e, this.name); });
      this.state.loaded = loaded;
      this.state.memtable = this.state.memtable.retainAfter(-1, next);
      return next;
    });
  }

  /** Stops accepting writes and waits for queued ones. */
  close(reason: Error): Promise<void> {
    return this.writer.close(reason);
  }

  /**
   * Resolves a batch into WAL ops in request order. Deletes by filter are resolved here, to ids,
   * against the applied state plus the earlier requests of the same batch, so replaying the WAL
   * needs no filter evaluation and gives exactly the acknowledged outcome.
   */
  private async seal(payloads: WriteRequest[]): Promise<{ ops: WalOp[]; results: WriteResult[] }> {
    const ops: WalOp[] = [];
    const overlay = new Map<string, Document | null>();
    const exists = (id: DocId): boolean => {
      const o = overlay.get(idKey(id));
      return o === undefined ? this.state.has(id) : o !== null;
    };
    const state: WriteState = {
      get: async (id) => {
        const o = overlay.get(idKey(id));
        return o === undefined ? this.get(id) : o;
      },
      matching: (filter) => matchingIds(filter),
    };
    const matchingIds = (filter: CompiledFilter): DocId[] => {
      const matched: DocId[] = [];
      for (const source of this.sources()) {
        for (const row of matchingRows(source, filter)) {
          const id = source.id(row);
          if (!overlay.has(idKey(id))) matched.push(id);
        }
      }
      for (const doc of overlay.values()) {
        if (doc && filter.match(doc)) matched.push(doc.id);
      }
      return matched;
    };
    // One payload at a time: each sees the overlay of those before it.
    const sealOne = async (p: WriteRequest): Promise<WriteResult> => {
      if (p.kind === 'resolve') {
        // Checked before it was queued; a throw here fails this request alone, never its batch.
        let resolved: ResolvedWrite;
        try {
          resolved = await p.resolve(state);
        } catch (e) {
          return { count: 0, detail: e instanceof Error ? e : new Error(String(e)) };
        }
        for (const op of resolved.ops) {
          ops.push(op);
          overlay.set(idKey(op.kind === 'upsert' ? op.doc.id : op.id), op.kind === 'upsert' ? op.doc : null);
        }
        return { count: resolved.ops.length, detail: resolved.detail };
      }
      if (p.kind === 'upsert') {
        for (const doc of p.docs) {
          ops.push({ kind: 'upsert', doc });
          overlay.set(idKey(doc.id), doc);
        }
        return { count: p.docs.length };
      }
      if (p.kind === 'delete') {
        let count = 0;
        for (const id of p.ids) {
          if (exists(id)) count++;
          ops.push({ kind: 'delete', id });
          overlay.set(idKey(id), null);
        }
        return { count };
      }
      const matched = matchingIds(p.filter);
      for (const id of matched) {
        ops.push({ kind: 'delete', id });
        overlay.set(idKey(id), null);
      }
      return { count: matched.length };
    };
    const results: WriteResult[] = [];
    for (const p of payloads) results.push(await sealOne(p));
    return { ops, results };
  }

  private apply(entry: WalEntry, bytes: number): void {
    this.state.apply(entry, bytes);
    this.onTailGrowth?.();
  }

  /** After a failed put: apply whatever reached storage that we have not applied. */
  private catchUp(afterSeq: number): Promise<number> {
    return this.state.replay(this.deps, () => this.onTailGrowth?.(), afterSeq);
  }
}
