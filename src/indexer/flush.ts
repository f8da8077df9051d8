// Folds the in-memory tail into a new segment: snapshot → build (the node's build pool) → upload →
// commit the manifest (new segment, deletion lists, WAL watermark) → swap, all while writes and
// queries go on. WAL objects up to the watermark become garbage for the janitor.
import { randomBytes } from 'node:crypto';
import type { SegmentRef } from '../manifest/manifest.ts';
import { ManifestStore } from '../manifest/manifest.ts';
import { encodeRowSet } from '../manifest/row-set.ts';
import { segmentKey } from '../storage/layout.ts';
import { SegmentReader } from '../segment/index.ts';
import type { SegmentMeta } from '../segment/index.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import type { Namespace } from './namespace.ts';

export function newSegmentId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/** A manifest entry for segment `id` of namespace `ns`, with the given deleted rows. */
export function segmentRef(ns: string, id: string, meta: SegmentMeta, maxSeq: number, dead: number[]): SegmentRef {
  return {
    id, key: segmentKey(ns, id), rows: meta.rows, max_seq: maxSeq, bytes: meta.bytes, meta,
    deletions: encodeRowSet(dead), deleted_rows: dead.length,
  };
}

/** The manifest's segment list with every segment's deletions as they are right now. */
export function currentRefs(ns: Namespace): SegmentRef[] {
  const byId = new Map(ns.loaded.manifest.segments.map((r) => [r.id, r]));
  return ns.segments.map((seg) => {
    const ref = byId.get(seg.segmentId)!;
    return segmentRef(ns.name, seg.segmentId, ref.meta, ref.max_seq, seg.deadRows());
  });
}

/** Uploads a built segment and opens it from the bytes in hand (no download). */
export async function uploadSegment(ns: Namespace, id: string, bytes: Buffer, meta: SegmentMeta): Promise<SegmentReader> {
  const key = segmentKey(ns.name, id);
  await ns.deps.store.put(key, bytes, { ifNoneMatch: '*' });
  return SegmentReader.open({
    meta,
    schema: ns.schema,
    tmpDir: ns.deps.tmpDir,
    readSection: async (_name, range) => bytes.subarray(range.offset, range.offset + range.length),
  });
}

/** Returns false when there was nothing to fold. */
export function flushTail(ns: Namespace): Promise<boolean> {
  return ns.exclusive(async () => {
    if (ns.lastAppliedSeq <= ns.loaded.manifest.wal_watermark) return false;
    let watermark = ns.lastAppliedSeq;
    let built: { id: string; reader: SegmentReader; meta: SegmentMeta } | null = null;
    // The snapshot (and its watermark) is taken when a build thread is free, not before: a flush
    // waiting for the pool holds no copy of the tail, and folds what arrived while it waited.
    const segment = ns.memtable.size === 0 ? null : await ns.deps.builds.build(() => {
      watermark = ns.lastAppliedSeq;
      const snap = ns.memtable.snapshot();
      if (snap.ids.length === 0) return null;
      return {
        schema: ns.schema,
        ids: snap.ids,
        vectors: snap.vectors,
        hasVector: snap.hasVector,
        attributes: snap.attributes,
        hnsw: { m: ns.deps.indexing.hnsw_m, efConstruction: ns.deps.indexing.hnsw_ef_construction },
      };
    }, { transfer: true });
    if (segment) {
      const id = newSegmentId();
      built = { id, reader: await uploadSegment(ns, id, segment.bytes, segment.meta), meta: segment.meta };
    }
    // Rows of the new segment already superseded by writes after the watermark start dead.
    const deadInNew = (reader: SegmentReader): number[] => {
      const dead: number[] = [];
      for (let row = 0; row < reader.rows; row++) if (ns.memtable.touchedAfter(reader.id(row), watermark)) dead.push(row);
      return dead;
    };
    const refs = currentRefs(ns);
    if (built) {
      refs.push(segmentRef(ns.name, built.id, built.meta, watermark, deadInNew(built.reader)));
    }
    const next = await new ManifestStore(ns.deps.store).commit(ns.name, ns.loaded, { segments: refs, wal_watermark: watermark });
    // Swap synchronously: writes applied while the commit was in flight are accounted for here.
    if (built) ns.segments.push(new LiveSegment(built.id, built.reader, deadInNew(built.reader)));
    ns.memtable = ns.memtable.retainAfter(watermark);
    ns.loaded = next;
    ns.foldWal(watermark);
    return true;
  });
}
