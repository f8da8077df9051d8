// Reads over a namespace's sources (the tail, then segments newest first), shared by the owner's
// Namespace and by the read-only views other nodes build from object storage.
import { idToJson } from '../schema/document.ts';
import { nameRecord } from '../schema/records.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { LiveSegment } from '../segment/live-segment.ts';
import type { Manifest } from '../manifest/manifest.ts';
import type { RowSource } from '../segment/row-source.ts';
import { executeQuery, type Hit } from '../query/executor.ts';
import type { ParsedQuery } from '../query/request.ts';
import { Memtable } from './memtable.ts';

export interface QueryHitJson {
  id: number | string;
  score: number;
  distance?: number;
  bm25?: number;
  attributes?: Record<string, unknown>;
  vector?: number[];
}

/** The newest live version of `id`, or null when it does not exist (or was deleted). */
export async function getDocument(schema: NamespaceSchema, sources: readonly RowSource[], id: DocId): Promise<Document | null> {
  for (const source of sources) {
    const row = source instanceof Memtable ? source.rowOf(id) : (source as LiveSegment).liveRowOf(id);
    if (row === undefined) {
      if (source instanceof Memtable && source.isDeleted(id)) return null;
      continue;
    }
    return (await documentsAt(schema, source, [row]))[0]!;
  }
  return null;
}

/** The order documents are listed in: u64 ids ascending, then string ids by UTF-16 code units. */
export function compareIds(a: DocId, b: DocId): number {
  if (typeof a === 'bigint') return typeof b === 'bigint' ? (a < b ? -1 : a > b ? 1 : 0) : -1;
  if (typeof b === 'bigint') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The first `limit` live documents with ids after `after`, in id order: one page of
 * GET /v1/namespaces/:ns/documents. Each live id is live in exactly one source (applyOps kills
 * the older row), so no source needs to shadow another. A page scans every row once and keeps at
 * most 2·limit candidates.
 */
export async function listDocuments(schema: NamespaceSchema, sources: readonly RowSource[], after: DocId | null, limit: number): Promise<Document[]> {
  let best: Array<{ id: DocId; source: RowSource; row: number }> = [];
  const byId = (x: { id: DocId }, y: { id: DocId }) => compareIds(x.id, y.id);
  for (const source of sources) {
    for (let row = 0; row < source.rowCount; row++) {
      if (!source.isLive(row)) continue;
      const id = source.id(row);
      if (after !== null && compareIds(id, after) <= 0) continue;
      best.push({ id, source, row });
      if (best.length >= 2 * limit) best = best.sort(byId).slice(0, limit);
    }
  }
  const page = best.sort(byId).slice(0, limit);
  const bySource = new Map<RowSource, number[]>();
  for (const { source, row } of page) bySource.set(source, [...(bySource.get(source) ?? []), row]);
  const docs = new Map<RowSource, Document[]>();
  for (const [source, rows] of bySource) docs.set(source, await documentsAt(schema, source, rows));
  const next = new Map<RowSource, number>();
  return page.map(({ source }) => {
    const i = next.get(source) ?? 0;
    next.set(source, i + 1);
    return docs.get(source)![i]!;
  });
}

/** The documents at `rows` of one source, in that order; vectors read only for those rows. */
async function documentsAt(schema: NamespaceSchema, source: RowSource, rows: readonly number[]): Promise<Document[]> {
  const vectors = await vectorAccess(source, rows);
  return rows.map((row) => documentAt(schema, source, row, vectors));
}

export type RowVectors = { data: Float32Array; offset(row: number): number };

/** The given rows' vectors: IVF segments read only those rows' clusters (vectorsOf), other sources hold them all. */
export function vectorAccess(source: RowSource, rows: readonly number[]): Promise<RowVectors> | RowVectors {
  return source.vectorsOf ? source.vectorsOf(rows) : { data: source.vectorData(), offset: (row) => source.vectorOffset(row) };
}

function documentAt(schema: NamespaceSchema, source: RowSource, row: number, vectors: RowVectors): Document {
  const off = vectors.offset(row);
  return {
    id: source.id(row),
    vector: off < 0 ? null : vectors.data.slice(off, off + schema.vector_dim),
    attributes: source.attributes(row),
  };
}

export async function runQuery(schema: NamespaceSchema, sources: RowSource[], q: ParsedQuery, defaultEf: number): Promise<QueryHitJson[]> {
  const hits = await executeQuery(schema, sources, q, { ef: q.ef ?? defaultEf, ...(q.nprobe !== null ? { nprobe: q.nprobe } : {}) });
  const vectors = new Map<RowSource, RowVectors>();
  if (q.includeVector) {
    const bySource = new Map<RowSource, number[]>();
    for (const h of hits) bySource.set(h.source, [...(bySource.get(h.source) ?? []), h.row]);
    for (const [source, rows] of bySource) vectors.set(source, await vectorAccess(source, rows));
  }
  return hits.map((h) => hitJson(schema, h, q, vectors.get(h.source)));
}

function hitJson(schema: NamespaceSchema, h: Hit, q: ParsedQuery, vectors: RowVectors | undefined): QueryHitJson {
  const out: QueryHitJson = { id: idToJson(h.source.id(h.row)), score: h.score };
  if (h.distance !== undefined) out.distance = h.distance;
  if (h.bm25 !== undefined) out.bm25 = h.bm25;
  if (q.includeAttributes !== false) {
    const attrs = h.source.attributes(h.row);
    if (q.includeAttributes === true) {
      out.attributes = attrs;
    } else {
      const picked = nameRecord<unknown>();
      for (const name of q.includeAttributes) if (Object.hasOwn(attrs, name)) picked[name] = attrs[name];
      out.attributes = picked;
    }
  }
  if (q.includeVector) {
    const off = vectors!.offset(h.row);
    out.vector = off < 0 ? [] : Array.from(vectors!.data.subarray(off, off + schema.vector_dim));
  }
  return out;
}

/** GET /v1/namespaces/:ns's numbers, for the owner's state and for a view alike. */
export function namespaceStats(state: {
  manifest: Manifest;
  segments: readonly LiveSegment[];
  memtable: Memtable;
  lastSeq: number;
  walEntries: number;
  walBytes: number;
}) {
  const { manifest, segments, memtable } = state;
  const indexed = segments.reduce((n, s) => n + s.size, 0);
  return {
    documents: indexed + memtable.size,
    unindexed_documents: memtable.size,
    wal_entries: state.walEntries,
    wal_bytes: state.walBytes,
    last_wal_seq: state.lastSeq,
    wal_watermark: manifest.wal_watermark,
    manifest_version: manifest.version,
    segments: segments.map((s) => ({ id: s.segmentId, documents: s.size, rows: s.rowCount })),
    approx_memory_bytes: memtable.bytes,
  };
}
