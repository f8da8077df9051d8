// Folds the in-memory tail into a new segment: snapshot → build (the node's build pool) → upload →
// hand it to the segment updater, which commits the manifest (new segment, deletion lists, WAL
// watermark) and swaps it in, all while writes and queries go on. WAL objects up to the
// watermark become garbage for the janitor.
import { randomBytes } from 'node:crypto';
import { segmentKey } from '../storage/layout.ts';
import { SegmentReader } from '../segment/index.ts';
import type { SegmentMeta } from '../segment/index.ts';
import type { Namespace } from './namespace.ts';
import { commitSegments, type NewSegment } from './segment-updater.ts';
import { secondsSince } from '../metrics.ts';

export function newSegmentId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/** Uploads a built segment and opens it from the bytes in hand (no download). */
export async function uploadSegment(ns: Namespace, id: string, bytes: Buffer, meta: SegmentMeta): Promise<NewSegment> {
  const key = segmentKey(ns.name, id);
  await ns.deps.store.put(key, bytes, { ifNoneMatch: '*' });
  const reader = await SegmentReader.open({
    meta,
    schema: ns.schema,
    tmpDir: ns.deps.tmpDir,
    readSection: async (_name, range) => bytes.subarray(range.offset, range.offset + range.length),
  });
  return { id, key, reader };
}

/** Returns false when there was nothing to fold. */
export function flushTail(ns: Namespace): Promise<boolean> {
  return ns.exclusive(async () => {
    if (ns.lastAppliedSeq <= ns.loaded.manifest.wal_watermark) return false;
    const started = performance.now();
    let watermark = ns.lastAppliedSeq;
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
        ivfFrom: ns.deps.indexing.ivf_min_rows,
      };
    }, { transfer: true });
    const built = segment ? await uploadSegment(ns, newSegmentId(), segment.bytes, segment.meta) : null;
    // Rows of the new segment already superseded by writes after the watermark start dead.
    const deadRows = (reader: SegmentReader) => (): number[] => {
      const dead: number[] = [];
      for (let row = 0; row < reader.rows; row++) if (ns.memtable.touchedAfter(reader.id(row), watermark)) dead.push(row);
      return dead;
    };
    await commitSegments(ns, {
      removed: [],
      added: built && { segment: built, maxSeq: watermark, deadRows: deadRows(built.reader) },
      watermark,
    });
    if (built) ns.deps.metrics?.indexBuild.observe({ kind: 'flush' }, secondsSince(started));
    return true;
  });
}
