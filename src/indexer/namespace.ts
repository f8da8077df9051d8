// One open namespace on the node that owns it: schema, manifest, live segments, WAL writer and
// the in-memory tail. Writes are validated before they reach the writer, so a batch is applied
// whole or not at all; they are acknowledged only once their WAL object is durable.
//
// Visibility: a document's newest version lives in exactly one source. Every applied op kills
// the id's live row in the segments (and the tail), so segments never need to be consulted for
// "is there something newer" at query time.
import { Errors } from '../errors.ts';
import type { SiltConfig } from '../config/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { LoadedManifest, SegmentRef } from '../manifest/manifest.ts';
import { decodeRowSet } from '../manifest/row-set.ts';
import { idKey } from '../schema/document.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { WalEntry, WalOp } from '../wal/format.ts';
import { WalWriter } from '../wal/writer.ts';
import { replayWal, WalCorruptError } from '../wal/reader.ts';
import { SegmentCorruptError, SegmentReader, type BuildPool } from '../segment/index.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import type { RowSource } from '../segment/row-source.ts';
import type { CompiledFilter } from '../query/filter/index.ts';
import { matchingRows } from '../query/executor.ts';
import type { ParsedQuery } from '../query/request.ts';
import { Memtable } from './memtable.ts';
import { storageFailure } from './failures.ts';
import { getDocument, namespaceStats, runQuery, type QueryHitJson } from './read.ts';
import type { WriteAdmission } from './backpressure.ts';

export type { QueryHitJson } from './read.ts';

export type WriteRequest =
  | { kind: 'upsert'; docs: Document[] }
  | { kind: 'delete'; ids: DocId[] }
  | { kind: 'delete_filter'; filter: CompiledFilter };

export interface WriteResult {
  /** Documents written (upsert) or deleted (delete, delete by filter). */
  count: number;
}

export type IndexingOptions = SiltConfig['indexing'];

export interface NamespaceDeps {
  store: ObjectStore;
  maxBatchBytes: number;
  indexing: IndexingOptions;
  /** Scratch space for hnswlib's index files. */
  tmpDir: string;
  /** The node's segment build threads, shared by flush and merge of every namespace. */
  builds: BuildPool;
}

/** Where segment and WAL bytes come from: the store (a cached one where main.ts wires it so). */
export type ObjectSource = Pick<NamespaceDeps, 'store' | 'tmpDir'>;

/** Opens a manifest's segment from object storage with ranged reads of its sections. */
export async function openSegment(ns: string, deps: NamespaceDeps, schema: NamespaceSchema, ref: SegmentRef): Promise<LiveSegment> {
  return new LiveSegment(ref.id, await openSegmentReader(ns, deps, schema, ref), decodeRowSet(ref.deletions));
}

/** The segment's immutable reader, its sections read by range. */
export async function openSegmentReader(ns: string, deps: ObjectSource, schema: NamespaceSchema, ref: SegmentRef): Promise<SegmentReader> {
  return SegmentReader.open({
    meta: ref.meta,
    schema,
    tmpDir: deps.tmpDir,
    readSection: async (_name, { offset, length }) => (await deps.store.get(ref.key, { offset, length })).body,
  }).catch((e: unknown) => {
    if (e instanceof SegmentCorruptError) throw Errors.segmentCorrupt(ns, ref.id, ref.key, e.message);
    throw e;
  });
}

export class Namespace {
  memtable: Memtable;
  segments: LiveSegment[];
  loaded: LoadedManifest;
  /** Set by the background indexer when the tail passes a threshold. */
  onTailGrowth: (() => void) | null = null;
  /** Sizes of the WAL objects after the watermark, oldest first, and their sum. */
  private walTail: Array<{ seq: number; bytes: number }>;
  private walTailBytes: number;
  /** Estimated bytes of writes accepted but not yet applied. */
  private pendingBytes = 0;
  private readonly writer: WalWriter<WriteRequest, WriteResult>;
  private maintenance: Promise<void> = Promise.resolve();

  private constructor(
    readonly name: string,
    readonly deps: NamespaceDeps,
    loaded: LoadedManifest,
    segments: LiveSegment[],
    lastSeq: number,
    memtable: Memtable,
    walTail: Array<{ seq: number; bytes: number }>,
    private readonly admission: WriteAdmission,
  ) {
    this.loaded = loaded;
    this.segments = segments;
    this.memtable = memtable;
    this.walTail = walTail;
    this.walTailBytes = walTail.reduce((n, e) => n + e.bytes, 0);
    this.writer = new WalWriter(deps.store, name, lastSeq + 1, deps.maxBatchBytes, {
      seal: (payloads) => this.seal(payloads),
      apply: (entry, bytes) => this.apply(entry, bytes),
      recover: (fromSeq) => this.catchUp(fromSeq - 1).then((last) => last + 1),
      failure: (e) => storageFailure(e, name),
    });
  }

  /** Opens the manifest's segments and replays the WAL after its watermark into the tail. */
  static async open(name: string, deps: NamespaceDeps, loaded: LoadedManifest, admission: WriteAdmission): Promise<Namespace> {
    const schema = loaded.manifest.schema;
    const segments = await Promise.all(loaded.manifest.segments.map((ref) => openSegment(name, deps, schema, ref)));
    const memtable = new Memtable(schema);
    const walTail: Array<{ seq: number; bytes: number }> = [];
    let last: number;
    try {
      last = await replayWal(deps.store, name, loaded.manifest.wal_watermark, (entry, bytes) => {
        applyOps(memtable, segments, entry);
        walTail.push({ seq: entry.seq, bytes });
      });
    } catch (e) {
      if (e instanceof WalCorruptError) throw Errors.walCorrupt(name, e.key, e.detail);
      throw e;
    }
    return new Namespace(name, deps, loaded, segments, Math.max(last, loaded.manifest.wal_watermark), memtable, walTail, admission);
  }

  get schema(): NamespaceSchema {
    return this.loaded.manifest.schema;
  }

  /** The seq of the last WAL entry applied to the in-memory state. */
  get lastAppliedSeq(): number {
    return this.writer.lastSeq;
  }

  /** Bytes not yet folded into segments: the WAL after the watermark and the writes in flight. */
  get unindexedBytes(): number {
    return this.walTailBytes + this.pendingBytes;
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
      : request.kind === 'delete' ? request.ids.length * 32 : 64;
    this.pendingBytes += bytes;
    return this.writer.append(request, bytes).finally(() => {
      this.pendingBytes -= bytes;
    });
  }

  /** Sources newest first: the tail, then segments from the most recent. */
  sources(): RowSource[] {
    return [this.memtable, ...[...this.segments].reverse()];
  }

  get(id: DocId): Document | null {
    return getDocument(this.schema, this.sources(), id);
  }

  query(q: ParsedQuery): QueryHitJson[] {
    return runQuery(this.schema, this.sources(), q, this.deps.indexing.hnsw_ef_search);
  }

  /** GET /v1/namespaces/:ns's numbers, with the tail's size against its backpressure limit. */
  stats() {
    const shared = namespaceStats({
      manifest: this.loaded.manifest,
      segments: this.segments,
      memtable: this.memtable,
      lastSeq: this.writer.lastSeq,
      walEntries: this.walTail.length,
      walBytes: this.walTailBytes,
    });
    return { ...shared, unindexed_bytes: this.unindexedBytes, unindexed_limit_bytes: this.admission.namespaceLimit };
  }

  /** Called once a manifest covering the WAL up to `watermark` is committed. */
  foldWal(watermark: number): void {
    this.walTail = this.walTail.filter((e) => e.seq > watermark);
    this.walTailBytes = this.walTail.reduce((n, e) => n + e.bytes, 0);
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

  /** Stops accepting writes and waits for queued ones. */
  close(reason: Error): Promise<void> {
    return this.writer.close(reason);
  }

  /**
   * Resolves a batch into WAL ops in request order. Deletes by filter are resolved here, to ids,
   * against the applied state plus the earlier requests of the same batch, so replaying the WAL
   * needs no filter evaluation and gives exactly the acknowledged outcome.
   */
  private seal(payloads: WriteRequest[]): { ops: WalOp[]; results: WriteResult[] } {
    const ops: WalOp[] = [];
    const overlay = new Map<string, Document | null>();
    const exists = (id: DocId): boolean => {
      const o = overlay.get(idKey(id));
      return o === undefined ? this.get(id) !== null : o !== null;
    };
    const results = payloads.map((p): WriteResult => {
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
      const matched: DocId[] = [];
      for (const source of this.sources()) {
        for (const row of matchingRows(source, p.filter)) {
          const id = source.id(row);
          if (!overlay.has(idKey(id))) matched.push(id);
        }
      }
      for (const doc of overlay.values()) {
        if (doc && p.filter.match(doc)) matched.push(doc.id);
      }
      for (const id of matched) {
        ops.push({ kind: 'delete', id });
        overlay.set(idKey(id), null);
      }
      return { count: matched.length };
    });
    return { ops, results };
  }

  private apply(entry: WalEntry, bytes: number): void {
    applyOps(this.memtable, this.segments, entry);
    this.walTail.push({ seq: entry.seq, bytes });
    this.walTailBytes += bytes;
    if (this.memtable.shouldRebuild()) this.memtable = this.memtable.rebuilt();
    this.onTailGrowth?.();
  }

  /** After a failed put: apply whatever reached storage that we have not applied. */
  private async catchUp(afterSeq: number): Promise<number> {
    try {
      return await replayWal(this.deps.store, this.name, afterSeq, (entry, bytes) => this.apply(entry, bytes));
    } catch (e) {
      if (e instanceof WalCorruptError) throw Errors.walCorrupt(this.name, e.key, e.detail);
      throw e;
    }
  }
}

/** Applies a WAL entry: each op kills the id's live row wherever it is, then lands in the tail. */
export function applyOps(memtable: Memtable, segments: readonly LiveSegment[], entry: WalEntry): void {
  for (const op of entry.ops) {
    const id = op.kind === 'upsert' ? op.doc.id : op.id;
    for (let i = segments.length - 1; i >= 0; i--) if (segments[i]!.killId(id)) break;
    if (op.kind === 'upsert') memtable.upsert(op.doc, entry.seq);
    else memtable.delete(op.id, entry.seq);
  }
}
