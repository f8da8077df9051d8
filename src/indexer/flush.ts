// Folds the in-memory tail into segments: snapshot → build (the node's build pool) → upload →
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

/**
 * Uploads a built segment and opens it: what the reader reads at open is copied from the bytes in
 * hand (no download), what it reads later (IVF clusters, postings) comes from the store by range,
 * as in any other reader. A reader that kept reading from `bytes` kept the whole object alive
 * for as long as the segment was open: a 1M-row IVF segment is ≈ 560 MB (bench scale).
 */
export async function uploadSegment(ns: Namespace, id: string, bytes: Buffer, meta: SegmentMeta): Promise<NewSegment> {
  const key = segmentKey(ns.name, id);
  await ns.deps.store.put(key, bytes, { ifNoneMatch: '*' });
  let inHand: Buffer | null = bytes;
  const reader = await SegmentReader.open({
    ...ns.deps.readerOptions,
    meta,
    schema: ns.schema,
    tmpDir: ns.deps.tmpDir,
    readSection: async (_name, range) => inHand !== null
      ? ownCopy(inHand.subarray(range.offset, range.offset + range.length))
      : (await ns.deps.store.get(key, range)).body,
  });
  inHand = null;
  return { id, key, reader };
}

/** A copy in an ArrayBuffer of its own (8-byte aligned, not Buffer's shared pool). */
function ownCopy(bytes: Buffer): Buffer {
  const out = Buffer.from(new ArrayBuffer(bytes.byteLength));
  bytes.copy(out);
  return out;
}

interface Piece {
  built: NewSegment | null;
  /** The WAL seq the piece folds up to. */
  watermark: number;
}

/**
 * Builds and uploads the live rows of the tail written after `afterSeq` up to `through` (the
 * last piece: up to whatever was applied when its build thread came free).
 */
async function buildPiece(ns: Namespace, afterSeq: number, through: number | undefined, backlog: boolean): Promise<Piece> {
  let watermark = through ?? ns.lastAppliedSeq;
  // The snapshot (and its watermark) is taken when a build thread is free, not before: a flush
  // waiting for the pool holds no copy of the tail, and folds what arrived while it waited.
  const segment = await ns.deps.builds.build(() => {
    if (through === undefined) watermark = ns.lastAppliedSeq;
    const snap = ns.memtable.snapshot(afterSeq, watermark);
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
  }, { transfer: true, backlog });
  return { built: segment ? await uploadSegment(ns, newSegmentId(), segment.bytes, segment.meta) : null, watermark };
}

/**
 * Returns false when there was nothing to fold. A tail of more than `indexing.flush_docs` rows
 * (indexing fell behind ingest) is cut into pieces of about that many, in WAL order. Up to one
 * piece per backlog thread (every core, build-pool.ts) is built at a time, side by side; the
 * pieces are committed one after another, each with the watermark where it ends. So a crash
 * between two commits leaves a manifest whose segments hold exactly the WAL up to its watermark
 * (the rest is replayed), the tail that queries scan exactly shrinks piece by piece, and no build
 * holds the whole tail.
 */
export function flushTail(ns: Namespace): Promise<boolean> {
  return ns.exclusive(async () => {
    if (ns.lastAppliedSeq <= ns.loaded.manifest.wal_watermark) return false;
    const started = performance.now();
    const cuts = ns.memtable.cuts(ns.deps.indexing.flush_docs);
    const ahead = ns.deps.builds.backlogThreads;
    const pieces: Array<Promise<Piece>> = [];
    const launch = (upTo: number) => {
      for (let i = pieces.length; i <= Math.min(upTo, cuts.length); i++) {
        const piece = buildPiece(ns, i === 0 ? -Infinity : cuts[i - 1]!, cuts[i], i > 0);
        piece.catch(() => undefined); // awaited in order below; one failing early must not go unhandled
        pieces.push(piece);
      }
    };
    let built = 0;
    for (let i = 0; i <= cuts.length; i++) {
      launch(i + ahead - 1);
      const { built: segment, watermark } = await pieces[i]!;
      // Rows of the new segment already superseded by writes after the watermark start dead.
      const deadRows = (reader: SegmentReader) => (): number[] => {
        const dead: number[] = [];
        for (let row = 0; row < reader.rows; row++) if (ns.memtable.touchedAfter(reader.id(row), watermark)) dead.push(row);
        return dead;
      };
      await commitSegments(ns, {
        removed: [],
        added: segment && { segment, maxSeq: watermark, deadRows: deadRows(segment.reader) },
        watermark,
      });
      if (segment) built++;
    }
    if (built > 0) ns.deps.metrics?.indexBuild.observe({ kind: 'flush' }, secondsSince(started));
    return true;
  });
}
