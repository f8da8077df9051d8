// One namespace's state as its reads see it: the manifest, its live segments and the tail of WAL
// entries after the watermark. The owner's Namespace (state + WAL writer + admission) and a query
// node's NamespaceView (state + refresh) both wrap it, so replay, lookup, query and stats are the
// same code on both: a view answers exactly as the owner would after a restart.
//
// Visibility: a document's newest version lives in exactly one source. Every applied op kills
// the id's live row in the segments (and the tail), so segments never need to be consulted for
// "is there something newer" at query time.
import { Errors } from '../errors.ts';
import type { LoadedManifest, SegmentRef } from '../manifest/manifest.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { ListPage } from '../storage/object-store.ts';
import type { WalEntry } from '../wal/format.ts';
import { replayWal, WalCorruptError } from '../wal/reader.ts';
import type { LiveSegment } from '../segment/live-segment.ts';
import type { RowSource } from '../segment/row-source.ts';
import type { ParsedQuery } from '../query/request.ts';
import { Memtable } from './memtable.ts';
import type { ObjectSource } from './objects.ts';
import { getDocument, listDocuments, namespaceStats, runQuery, type QueryHitJson } from './read.ts';

export type { QueryHitJson } from './read.ts';

/** What the read endpoints need of a namespace, whether the owner's or a view of it. */
export interface ReadableNamespace {
  readonly name: string;
  readonly schema: NamespaceSchema;
  get(id: DocId): Promise<Document | null>;
  /** One page of live documents in id order (read.ts listDocuments). */
  list(after: DocId | null, limit: number): Promise<Document[]>;
  /** A Promise: IVF segments read the clusters a query probes from storage (through the cache). */
  query(q: ParsedQuery): Promise<QueryHitJson[]>;
  /** The sources a read runs over, newest first (NamespaceState.sources), for reads beyond query(). */
  sources(): RowSource[];
  stats(): ReturnType<typeof namespaceStats>;
  metadata(): NamespaceMetadata;
}

export interface NamespaceMetadata {
  created_at: string;
  /** When the newest write was made. */
  updated_at: string;
  /** Approximate bytes of live data: segments (their live share) and the WAL tail. */
  logical_bytes: number;
  /** Bytes written but not yet folded into segments. */
  unindexed_bytes: number;
}

export class NamespaceState {
  loaded: LoadedManifest;
  /** Changed only by the owner's segment updater, after a manifest commit. */
  segments: LiveSegment[];
  memtable: Memtable;
  /** The seq of the last WAL entry applied. */
  lastSeq: number;
  /** Sizes (and write times, for the index lag) of the WAL objects after the watermark, oldest first, and their sum. */
  private walTail: Array<{ seq: number; bytes: number; createdAt: number; ops: number }> = [];
  private walTailBytes = 0;

  private constructor(readonly name: string, loaded: LoadedManifest, segments: LiveSegment[]) {
    this.loaded = loaded;
    this.segments = segments;
    this.memtable = new Memtable(loaded.manifest.schema);
    this.lastSeq = loaded.manifest.wal_watermark;
  }

  /**
   * Opens the manifest's segments (with `open`) and replays the WAL after its watermark into the
   * tail. The WAL is listed and fetched while the segments open (one sequential round trip less
   * on a cold open, bench/cold-start.ts); entries that arrive first wait to be applied, in order,
   * since applying one kills rows in the segments. `walFirstPage` is the WAL's listing when the
   * opener asked for it with the manifest pointer (wal/reader.ts, listWalFirstPage).
   */
  static async open(name: string, source: ObjectSource, loaded: LoadedManifest, open: (ref: SegmentRef) => Promise<LiveSegment>, walFirstPage?: Promise<ListPage>): Promise<NamespaceState> {
    let state: NamespaceState | null = null;
    const early: Array<[WalEntry, number]> = [];
    const replay = replayTranslated(name, source, loaded.manifest.wal_watermark, (entry, bytes) => {
      if (state === null) early.push([entry, bytes]);
      else state.apply(entry, bytes);
    }, walFirstPage);
    replay.catch(() => {}); // awaited below, after the segments
    const opened = new NamespaceState(name, loaded, await Promise.all(loaded.manifest.segments.map(open)));
    for (const [entry, bytes] of early) opened.apply(entry, bytes);
    state = opened;
    await replay;
    return opened;
  }

  get schema(): NamespaceSchema {
    return this.loaded.manifest.schema;
  }

  get walEntries(): number {
    return this.walTail.length;
  }

  get walBytes(): number {
    return this.walTailBytes;
  }

  /** When the oldest write not yet folded into a segment was committed (ms since the epoch); null when none. */
  get oldestUnindexedAt(): number | null {
    return this.walTail[0]?.createdAt ?? null;
  }

  /** When the newest WAL entry after the watermark up to `seq` was written (ms since the epoch); null when none. */
  writtenAt(seq = Infinity): number | null {
    let at: number | null = null;
    for (const e of this.walTail) if (e.seq <= seq) at = e.createdAt;
    return at;
  }

  /** Applies every WAL entry after `afterSeq` that is in storage; returns the last seq applied. */
  replay(source: ObjectSource, onEntry?: () => void, afterSeq = this.lastSeq): Promise<number> {
    return replayTranslated(this.name, source, afterSeq, (entry, bytes) => {
      this.apply(entry, bytes);
      onEntry?.();
    });
  }

  /** Applies one durable WAL entry to the tail. */
  apply(entry: WalEntry, bytes: number): void {
    applyOps(this.memtable, this.segments, entry);
    this.lastSeq = entry.seq;
    this.walTail.push({ seq: entry.seq, bytes, createdAt: entry.createdAt, ops: entry.ops.length });
    this.walTailBytes += bytes;
    if (this.memtable.shouldRebuild()) this.memtable = this.memtable.rebuilt();
  }

  /** Operations in the tail's WAL entries up to `watermark` (what a flush to there folds). */
  opsThrough(watermark: number): number {
    return this.walTail.reduce((n, e) => (e.seq <= watermark ? n + e.ops : n), 0);
  }

  /** Called once a manifest covering the WAL up to `watermark` is committed. */
  foldWal(watermark: number): void {
    this.walTail = this.walTail.filter((e) => e.seq > watermark);
    this.walTailBytes = this.walTail.reduce((n, e) => n + e.bytes, 0);
  }

  /** Sources newest first: the tail, then segments from the most recent. */
  sources(): RowSource[] {
    return [this.memtable, ...[...this.segments].reverse()];
  }

  get(id: DocId): Promise<Document | null> {
    return getDocument(this.schema, this.sources(), id);
  }

  /** Whether `id` has a live version (no vector read, unlike get). */
  has(id: DocId): boolean {
    for (const source of this.sources()) {
      if (source instanceof Memtable) {
        if (source.rowOf(id) !== undefined) return true;
        if (source.isDeleted(id)) return false;
      } else if ((source as LiveSegment).liveRowOf(id) !== undefined) {
        return true;
      }
    }
    return false;
  }

  list(after: DocId | null, limit: number): Promise<Document[]> {
    return listDocuments(this.schema, this.sources(), after, limit);
  }

  query(q: ParsedQuery, defaultEf: number): Promise<QueryHitJson[]> {
    return runQuery(this.schema, this.sources(), q, defaultEf);
  }

  /** What turbopuffer's metadata reports beside the stats (namespace/routes.ts metadataJson). */
  metadata(): NamespaceMetadata {
    const { manifest } = this.loaded;
    const lastWrite = this.writtenAt();
    // Segment bytes count rows deleted since; scaled by the live share, plus the WAL tail.
    let logical = this.walTailBytes;
    for (const s of this.segments) {
      const ref = manifest.segments.find((r) => r.id === s.segmentId);
      if (ref && s.rowCount > 0) logical += Math.round(ref.bytes * (s.size / s.rowCount));
    }
    return {
      created_at: manifest.created_at,
      updated_at: lastWrite !== null ? new Date(lastWrite).toISOString() : manifest.updated_at ?? manifest.created_at,
      logical_bytes: logical,
      unindexed_bytes: this.walTailBytes,
    };
  }

  /** GET /v1/namespaces/:ns's numbers. */
  stats(): ReturnType<typeof namespaceStats> {
    return namespaceStats({
      manifest: this.loaded.manifest,
      segments: this.segments,
      memtable: this.memtable,
      lastSeq: this.lastSeq,
      walEntries: this.walTail.length,
      walBytes: this.walTailBytes,
    });
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

/** replayWal, with a corrupt WAL object reported as the namespace's error. */
async function replayTranslated(name: string, source: ObjectSource, afterSeq: number, onEntry: (entry: WalEntry, bytes: number) => void, firstPage?: Promise<ListPage>): Promise<number> {
  try {
    return await replayWal(source.store, name, afterSeq, onEntry, firstPage === undefined ? {} : { firstPage });
  } catch (e) {
    if (e instanceof WalCorruptError) throw Errors.walCorrupt(name, e.key, e.detail);
    throw e;
  }
}
