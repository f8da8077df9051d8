// The one owner of a namespace's segment list (tantivy's segment_updater): flush and merge hand
// it what they built, and it commits the manifest and swaps the readers. Nothing else changes
// which segments a namespace serves, so the manifest and the in-memory list cannot drift apart.
// Callers hold the namespace's exclusive() turn; the commit's fencing (ManifestConflictError) and
// orphan handling are the manifest store's.
import type { Routes, SegmentRef } from '../manifest/manifest.ts';
import { ManifestStore } from '../manifest/manifest.ts';
import { encodeRowSet } from '../manifest/row-set.ts';
import type { SegmentMeta, SegmentReader } from '../segment/index.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import type { Namespace } from './namespace.ts';
import { scheduleCollection } from '../segment/collect.ts';

/** A segment built and uploaded, not yet in the manifest. */
export interface NewSegment {
  id: string;
  key: string;
  reader: SegmentReader;
}

/** One change of the segment list: what a flush or a merge produced. */
export interface SegmentChange {
  /** Segments leaving the list (a merge's inputs); none for a flush. */
  removed: readonly LiveSegment[];
  /**
   * The new segment, if any. `deadRows` gives its rows dead as of now: it is asked before the
   * commit and again at the swap, so rows that die while the commit is in flight stay dead.
   */
  added: { segment: NewSegment; maxSeq: number; deadRows: () => number[] } | null;
  /** A flush: the WAL up to here is folded into the segments and leaves the tail. */
  watermark?: number;
}

/** A manifest entry for a segment with the given deleted rows. */
export function segmentRef(id: string, key: string, meta: SegmentMeta, maxSeq: number, dead: number[]): SegmentRef {
  return {
    id, key, rows: meta.rows, max_seq: maxSeq, bytes: meta.bytes, meta,
    deletions: encodeRowSet(dead), deleted_rows: dead.length,
  };
}

/** The manifest's segment list with every segment's deletions as they are right now. */
export function currentRefs(ns: Namespace): SegmentRef[] {
  const byId = new Map(ns.loaded.manifest.segments.map((r) => [r.id, r]));
  return ns.segments.map((seg) => {
    const ref = byId.get(seg.segmentId)!;
    return segmentRef(seg.segmentId, ref.key, ref.meta, ref.max_seq, seg.deadRows());
  });
}

/** Commits `change` to the manifest, then swaps it into the namespace's state. */
export async function commitSegments(ns: Namespace, change: SegmentChange): Promise<void> {
  const { removed, added, watermark } = change;
  const gone = new Set(removed.map((s) => s.segmentId));
  const refs = currentRefs(ns).filter((r) => !gone.has(r.id));
  if (added) {
    const { segment, maxSeq, deadRows } = added;
    refs.push(segmentRef(segment.id, segment.key, segment.reader.meta, maxSeq, deadRows()));
  }
  // The time of the newest write leaving the tail, so a namespace's updated_at survives the fold.
  const foldedAt = watermark === undefined ? null : ns.state.writtenAt(watermark);
  // Every listed IVF segment's route, from its open reader: a namespace opened from a pointer
  // without routes gets them with its next commit (manifest.ts keeps only listed segments').
  const routes: Routes = {};
  for (const seg of [...ns.segments.filter((s) => !gone.has(s.segmentId)), ...(added ? [{ segmentId: added.segment.id, reader: added.segment.reader }] : [])]) {
    const route = seg.reader.ivfRoute();
    if (route !== null) routes[seg.segmentId] = route;
  }
  const next = await new ManifestStore(ns.deps.store).commit(ns.name, ns.loaded, {
    segments: refs,
    ...(watermark === undefined ? {} : { wal_watermark: watermark, wal_ops: (ns.loaded.manifest.wal_ops ?? 0) + ns.state.opsThrough(watermark) }),
    ...(foldedAt === null ? {} : { updated_at: new Date(foldedAt).toISOString() }),
  }, routes);
  // Swap synchronously: writes applied while the commit was in flight are accounted for here.
  const state = ns.state;
  const output = added ? new LiveSegment(added.segment.id, added.segment.reader, added.deadRows()) : null;
  const at = removed.length > 0 ? state.segments.indexOf(removed[0]!) : state.segments.length;
  const kept = state.segments.filter((s) => !gone.has(s.segmentId));
  if (output) kept.splice(Math.min(at, kept.length), 0, output);
  state.segments = kept;
  if (watermark !== undefined) state.memtable = state.memtable.retainAfter(watermark);
  state.loaded = next;
  if (watermark !== undefined) state.foldWal(watermark);
  for (const s of removed) s.reader.close();
  // The built segment's bytes, a merge's inputs and a flush's folded rows are dead now.
  scheduleCollection();
}
