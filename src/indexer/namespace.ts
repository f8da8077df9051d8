// One open namespace on the node that owns it: schema, manifest, WAL writer and the in-memory
// tail. Writes are validated before they reach the writer, so a batch is applied whole or not
// at all; they are acknowledged only once their WAL object is durable.
import { Errors, SiltError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { isStorageError } from '../storage/errors.ts';
import type { LoadedManifest } from '../manifest/manifest.ts';
import { idKey, idToJson } from '../schema/document.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { WalEntry, WalOp } from '../wal/format.ts';
import { WalWriter } from '../wal/writer.ts';
import { replayWal, WalCorruptError } from '../wal/reader.ts';
import type { CompiledFilter } from '../query/filter/index.ts';
import { executeQuery, type Hit } from '../query/executor.ts';
import type { ParsedQuery } from '../query/request.ts';
import { Memtable } from './memtable.ts';

export type WriteRequest =
  | { kind: 'upsert'; docs: Document[] }
  | { kind: 'delete'; ids: DocId[] }
  | { kind: 'delete_filter'; filter: CompiledFilter };

export interface WriteResult {
  /** Documents written (upsert) or deleted (delete, delete by filter). */
  count: number;
}

export interface NamespaceDeps {
  store: ObjectStore;
  maxBatchBytes: number;
}

export interface QueryHitJson {
  id: number | string;
  score: number;
  distance?: number;
  bm25?: number;
  attributes?: Record<string, unknown>;
  vector?: number[];
}

export function storageFailure(e: unknown): Error {
  if (e instanceof SiltError) return e;
  if (isStorageError(e, 'precondition_failed')) return e as Error;
  if (isStorageError(e)) return Errors.storageUnavailable('write', (e as Error).message);
  return Errors.internal((e as Error).message ?? String(e));
}

export class Namespace {
  private memtable: Memtable;
  private walEntries = 0;
  private walBytes = 0;
  private readonly writer: WalWriter<WriteRequest, WriteResult>;

  private constructor(
    readonly name: string,
    private readonly deps: NamespaceDeps,
    private loaded: LoadedManifest,
    lastSeq: number,
    memtable: Memtable,
    walEntries: number,
    walBytes: number,
  ) {
    this.memtable = memtable;
    this.walEntries = walEntries;
    this.walBytes = walBytes;
    this.writer = new WalWriter(deps.store, name, lastSeq + 1, deps.maxBatchBytes, {
      seal: (payloads) => this.seal(payloads),
      apply: (entry, bytes) => this.apply(entry, bytes),
      recover: (fromSeq) => this.catchUp(fromSeq - 1).then((last) => last + 1),
      failure: (e) => {
        if (isStorageError(e, 'precondition_failed')) return Errors.writeConflict(name);
        return storageFailure(e);
      },
    });
  }

  /** Loads the tail from the WAL after the manifest's watermark. */
  static async open(name: string, deps: NamespaceDeps, loaded: LoadedManifest): Promise<Namespace> {
    const memtable = new Memtable(loaded.manifest.schema);
    let entries = 0;
    let bytes = 0;
    let last: number;
    try {
      last = await replayWal(deps.store, name, loaded.manifest.wal_watermark, (entry, size) => {
        applyOps(memtable, entry);
        entries++;
        bytes += size;
      });
    } catch (e) {
      if (e instanceof WalCorruptError) throw Errors.walCorrupt(name, e.key, e.detail);
      throw e;
    }
    return new Namespace(name, deps, loaded, last, memtable, entries, bytes);
  }

  get schema(): NamespaceSchema {
    return this.loaded.manifest.schema;
  }

  get manifest(): LoadedManifest {
    return this.loaded;
  }

  write(request: WriteRequest): Promise<{ seq: number; result: WriteResult }> {
    const bytes = request.kind === 'upsert'
      ? request.docs.length * (this.schema.vector_dim * 4 + 128)
      : request.kind === 'delete' ? request.ids.length * 32 : 64;
    return this.writer.append(request, bytes);
  }

  get(id: DocId): Document | null {
    const row = this.memtable.rowOf(id);
    if (row === undefined) return null;
    const off = this.memtable.vectorOffset(row);
    const dim = this.schema.vector_dim;
    return {
      id: this.memtable.id(row),
      vector: off < 0 ? null : this.memtable.vectorData().slice(off, off + dim),
      attributes: this.memtable.attributes(row),
    };
  }

  query(q: ParsedQuery): QueryHitJson[] {
    const hits = executeQuery(this.schema, [this.memtable], q);
    return hits.map((h) => this.hitJson(h, q));
  }

  stats() {
    return {
      documents: this.memtable.size,
      unindexed_documents: this.memtable.size,
      wal_entries: this.walEntries,
      wal_bytes: this.walBytes,
      last_wal_seq: this.writer.lastSeq,
      wal_watermark: this.loaded.manifest.wal_watermark,
      manifest_version: this.loaded.manifest.version,
      segments: this.loaded.manifest.segments.length,
      approx_memory_bytes: this.memtable.bytes,
    };
  }

  /** Stops accepting writes and waits for queued ones. */
  close(reason: Error): Promise<void> {
    return this.writer.close(reason);
  }

  private hitJson(h: Hit, q: ParsedQuery): QueryHitJson {
    const out: QueryHitJson = { id: idToJson(h.source.id(h.row)), score: h.score };
    if (h.distance !== undefined) out.distance = h.distance;
    if (h.bm25 !== undefined) out.bm25 = h.bm25;
    if (q.includeAttributes !== false) {
      const attrs = h.source.attributes(h.row);
      if (q.includeAttributes === true) {
        out.attributes = attrs;
      } else {
        out.attributes = {};
        for (const name of q.includeAttributes) if (name in attrs) out.attributes[name] = attrs[name];
      }
    }
    if (q.includeVector) {
      const off = h.source.vectorOffset(h.row);
      out.vector = off < 0 ? [] : Array.from(h.source.vectorData().subarray(off, off + this.schema.vector_dim));
    }
    return out;
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
      return o === undefined ? this.memtable.rowOf(id) !== undefined : o !== null;
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
      const m = this.memtable;
      for (let row = 0; row < m.rowCount; row++) {
        if (!m.isLive(row)) continue;
        const id = m.id(row);
        if (overlay.has(idKey(id))) continue;
        if (p.filter.match({ id, attributes: m.attributes(row) })) matched.push(id);
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
    applyOps(this.memtable, entry);
    this.walEntries++;
    this.walBytes += bytes;
    if (this.memtable.shouldRebuild()) this.memtable = this.memtable.rebuilt();
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

function applyOps(memtable: Memtable, entry: WalEntry): void {
  for (const op of entry.ops) {
    if (op.kind === 'upsert') memtable.upsert(op.doc, entry.seq);
    else memtable.delete(op.id);
  }
}
