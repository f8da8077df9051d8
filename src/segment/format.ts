// The segment object: sections back to back (each 8-byte aligned), then a JSON table, then a fixed
// trailer (docs/segments.md draws it):
//
//   [section 0][pad][section 1][pad]...[table JSON][u32 table length][u32 CRC-32 of table]
//                                                  [u16 format version]["SILTSG"]
//
// The table locates every section (offset, length, CRC-32) and carries the statistics a planner
// needs without fetching anything else (rows, dim, metric, per-column min/max, per-field text
// stats). A reader fetches the tail, then only the sections it needs, with ranged reads.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { VectorMetric } from '../schema/types.ts';
import { shortlistBytes } from './ivf-shortlist.ts';

export const SEGMENT_FORMAT = 1;
export const SEGMENT_MAGIC = 'SILTSG';
/** u32 table length + u32 table CRC + u16 version + 6-byte magic. */
export const SEGMENT_TRAILER_BYTES = 16;

/** A section failed its CRC, or the object's structure is not what this reader writes. */
export class SegmentCorruptError extends Error {
  constructor(readonly section: string, detail: string) {
    super(`segment ${section === 'footer' ? 'footer' : `section '${section}'`} is corrupt: ${detail}`);
    this.name = 'SegmentCorruptError';
  }
}

export interface SectionRange {
  offset: number;
  length: number;
}

export interface SectionEntry extends SectionRange {
  crc: number;
}

/** min/max of a column's non-null values (elements, for arrays; booleans as 0/1). */
export interface ColumnStats {
  min: number | string;
  max: number | string;
  hasNull: boolean;
}

export interface SegmentMeta {
  format: number;
  rows: number;
  dim: number;
  metric: VectorMetric;
  /** Size of the whole object. */
  bytes: number;
  sections: Record<string, SectionEntry>;
  /** Per attribute; null when the column holds no value at all (every row null or missing). */
  columns: Record<string, ColumnStats | null>;
  /**
   * Per full-text attribute, over all rows of the segment (deletions not applied). format is the
   * text section's format: 2 = block postings (text/block-index.ts); absent = 1 (disk-index.ts).
   */
  text: Record<string, { docCount: number; sumTotalTermFreq: number; format?: number }>;
}

/** Section names: fixed ones, plus one per attribute column and one per full-text field. */
export const Sections = {
  ids: 'ids',
  vectors: 'vectors',
  hnsw: 'hnsw',
  /** The IVF directory, codes blocks and vector records (ivf.ts); no `vectors` section then. */
  ivf: 'ivf',
  ivfCodes: 'ivf.codes',
  ivfVectors: 'ivf.vectors',
  /** The IVF centroids, apart from the directory (ivf.ts, CENTROIDS_APART): read at open unless the pointer's route carries them. */
  ivfCentroids: 'ivf.centroids',
  /** Each row's norm and slot, apart from the directory (ivf.ts, ROWS_APART): read when a row is asked for by number. */
  ivfRows: 'ivf.rows',
  /** Segments written before `ivf.codes`: each cluster's codes and vectors in one block. */
  ivfClusters: 'ivf.clusters',
  column: (name: string) => `attr:${name}`,
  text: (field: string) => `text:${field}`,
} as const;

/** Lays sections out back to back and appends the table and trailer. */
/** What an open text format 2 section keeps besides a query's own terms: header and term index (at most this), plus a byte of norm per row. */
const TEXT_RESIDENT_BYTES = 64 * 1024;

/**
 * Bytes an open segment holds in memory: the sections read whole at open (ids, columns, the IVF
 * directory, HNSW, flat vectors, text format 1). Sections read by range when a query needs them
 * (IVF codes and vectors, text format 2 postings) are not counted: their parts are charged to the
 * memory tier as they are cached. Counting the whole object charged a 1M-row IVF segment
 * ≈ 570 MB for ≈ 20 MB held, and squeezed the memory tier that holds those parts (bench scale).
 * A segment of many clusters also holds its centroids' native shortlist (ivf-shortlist.ts).
 */
export function residentBytes(meta: SegmentMeta): number {
  const ranged = new Set<string>([Sections.ivfCodes, Sections.ivfVectors, Sections.ivfClusters]);
  let bytes = 0;
  for (const [name, entry] of Object.entries(meta.sections)) {
    if (ranged.has(name)) continue;
    const field = name.startsWith('text:') ? name.slice('text:'.length) : null;
    const textFormat2 = field !== null && (meta.text[field]?.format ?? 1) === 2;
    bytes += textFormat2 ? Math.min(entry.length, TEXT_RESIDENT_BYTES + meta.rows) : entry.length;
    if (name === Sections.ivfCentroids && meta.dim > 0) bytes += shortlistBytes(Math.floor(entry.length / (meta.dim * 4)), meta.dim);
  }
  return bytes;
}

export function assembleSegment(
  sections: Array<[string, Buffer]>,
  info: Omit<SegmentMeta, 'bytes' | 'sections' | 'format'>,
): { bytes: Buffer; meta: SegmentMeta } {
  const table: Record<string, SectionEntry> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, bytes] of sections) {
    if (table[name] !== undefined) throw new Error(`duplicate section '${name}'`);
    table[name] = { offset, length: bytes.byteLength, crc: crc32(bytes) };
    parts.push(bytes);
    offset += bytes.byteLength;
    const pad = (8 - (offset % 8)) % 8;
    if (pad > 0) {
      parts.push(Buffer.alloc(pad));
      offset += pad;
    }
  }
  const tableJson = Buffer.from(JSON.stringify({
    format: SEGMENT_FORMAT,
    rows: info.rows,
    dim: info.dim,
    metric: info.metric,
    tableOffset: offset,
    sections: table,
    columns: info.columns,
    text: info.text,
  }), 'utf8');
  const trailer = Buffer.alloc(SEGMENT_TRAILER_BYTES);
  trailer.writeUInt32LE(tableJson.byteLength, 0);
  trailer.writeUInt32LE(crc32(tableJson), 4);
  trailer.writeUInt16LE(SEGMENT_FORMAT, 8);
  trailer.write(SEGMENT_MAGIC, 10, 'latin1');
  parts.push(tableJson, trailer);
  const bytes = Buffer.concat(parts);
  return { bytes, meta: readSegmentMeta(bytes) };
}

/**
 * How many bytes from the end of the object readSegmentMeta needs, read from the last
 * SEGMENT_TRAILER_BYTES: fetch a guess (e.g. 64 KiB) of the tail, and fetch again when this says
 * the table is longer.
 */
export function segmentTailLength(tail: Buffer): number {
  const trailer = checkTrailer(tail);
  return trailer.tableLength + SEGMENT_TRAILER_BYTES;
}

/**
 * Parses the table from the object's tail (any suffix of the object that includes the table and
 * trailer; the whole object works too). objectSize, when known, is checked against the table.
 */
export function readSegmentMeta(tail: Buffer, objectSize?: number): SegmentMeta {
  const { tableLength, tableCrc } = checkTrailer(tail);
  const end = tail.byteLength - SEGMENT_TRAILER_BYTES;
  if (tableLength > end) {
    throw new SegmentCorruptError('footer',
      `table is ${tableLength} bytes but only ${end} bytes precede the trailer; pass at least segmentTailLength() bytes of the object's tail`);
  }
  const json = tail.subarray(end - tableLength, end);
  if (crc32(json) !== tableCrc) throw new SegmentCorruptError('footer', 'table CRC mismatch');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new SegmentCorruptError('footer', `table is not JSON (${(e as Error).message})`);
  }
  if (raw.format !== SEGMENT_FORMAT) throw new SegmentCorruptError('footer', `unsupported format ${String(raw.format)}`);
  const tableOffset = raw.tableOffset as number;
  const bytes = tableOffset + tableLength + SEGMENT_TRAILER_BYTES;
  if (objectSize !== undefined && objectSize !== bytes) {
    throw new SegmentCorruptError('footer', `object is ${objectSize} bytes; its table describes ${bytes}`);
  }
  const sections = raw.sections as Record<string, SectionEntry>;
  for (const [name, s] of Object.entries(sections)) {
    if (s.offset < 0 || s.length < 0 || s.offset + s.length > tableOffset) {
      throw new SegmentCorruptError('footer', `section '${name}' lies outside the object`);
    }
  }
  return {
    format: raw.format,
    rows: raw.rows as number,
    dim: raw.dim as number,
    metric: raw.metric as VectorMetric,
    bytes,
    sections,
    columns: raw.columns as SegmentMeta['columns'],
    text: raw.text as SegmentMeta['text'],
  };
}

function checkTrailer(tail: Buffer): { tableLength: number; tableCrc: number } {
  if (tail.byteLength < SEGMENT_TRAILER_BYTES) {
    throw new SegmentCorruptError('footer', `tail is ${tail.byteLength} bytes; the trailer alone is ${SEGMENT_TRAILER_BYTES}`);
  }
  const t = tail.subarray(tail.byteLength - SEGMENT_TRAILER_BYTES);
  if (t.toString('latin1', 10, 16) !== SEGMENT_MAGIC) {
    throw new SegmentCorruptError('footer', 'no SILTSG magic at the end (truncated, or not a segment)');
  }
  const version = t.readUInt16LE(8);
  if (version !== SEGMENT_FORMAT) {
    throw new SegmentCorruptError('footer', `format version ${version}; this reader understands ${SEGMENT_FORMAT}`);
  }
  return { tableLength: t.readUInt32LE(0), tableCrc: t.readUInt32LE(4) };
}

/** Bytes hashed or copied per event-loop turn: ~1 ms of CRC-32 (≈4 GB/s here) or memcpy. */
const SLICE_BYTES = 4 << 20;

/**
 * Checks a fetched section against its table entry (length, CRC-32) and returns its bytes
 * 8-byte aligned for zero-copy typed-array views (copied only when they are not). Big sections
 * are hashed and copied in slices with a macrotask turn between them: a 160 MB segment hashed in
 * one call blocks the event loop for ~40 ms.
 */
export async function verifySection(name: string, entry: SectionEntry, bytes: Buffer): Promise<Buffer> {
  if (bytes.byteLength !== entry.length) {
    throw new SegmentCorruptError(name, `expected ${entry.length} bytes, got ${bytes.byteLength}`);
  }
  let crc = 0;
  for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
    if (at > 0) await nextTurn();
    crc = crc32(bytes.subarray(at, at + SLICE_BYTES), crc);
  }
  if (crc !== entry.crc) throw new SegmentCorruptError(name, `CRC mismatch (stored ${entry.crc}, computed ${crc})`);
  if (bytes.byteOffset % 8 === 0) return bytes;
  const out = Buffer.from(new ArrayBuffer(bytes.byteLength));
  for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
    if (at > 0) await nextTurn();
    bytes.copy(out, at, at, Math.min(bytes.byteLength, at + SLICE_BYTES));
  }
  return out;
}
