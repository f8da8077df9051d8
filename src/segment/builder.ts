// Builds a segment object from rows folded out of the write tail (or merged by compaction).
// Pure CPU work that blocks for seconds on big inputs (HNSW dominates): call it from a worker
// (BuildPool) anywhere the event loop matters.
import { tmpdir } from 'node:os';
import { nameRecord, ownValue } from '../schema/records.ts';
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import { encodeColumn } from './columns.ts';
import { assembleSegment, Sections, type ColumnStats, type SegmentMeta } from './format.ts';
import { buildHnswBytes, checkHnswParams, DEFAULT_HNSW_SEED, type HnswParams } from './hnsw.ts';
import { encodeIds } from './ids.ts';
import { encodeIvf, type CodeKind } from './ivf.ts';
import { createAnalyzer } from './text/analyzer.ts';
import { encodeBlockTextField, TEXT_FORMAT_BLOCKS } from './text/block-index.ts';
import { checkedVectors, encodeVectors } from './vectors.ts';

export interface SegmentInput {
  schema: NamespaceSchema;
  /** Row order; unique. */
  ids: DocId[];
  /** rows × dim; the slots of rows without a vector are ignored. */
  vectors: Float32Array;
  /** 1 = the row has a vector. */
  hasVector: Uint8Array;
  attributes: Record<string, AttributeValue>[];
  hnsw: HnswParams;
  /** Where hnswlib's index file is written and read back during the build; os.tmpdir() by default. */
  tmpDir?: string;
  /** Segments with fewer vector rows get no HNSW index; EXACT_SCAN_ROWS unless given (tests, benchmarks). */
  exactScanBelow?: number;
  /** Segments with at least this many vector rows get the IVF index instead of HNSW; IVF_ROWS unless given. */
  ivfFrom?: number;
  /** Target rows per IVF cluster; IVF_CLUSTER_ROWS unless given. */
  ivfClusterRows?: number;
  /** The IVF scan codes; IVF_CODES unless given (benchmarks compare them). */
  ivfCodes?: CodeKind;
  /** Centroids, norms and slots inside the IVF directory, as segments were written before `ivf.centroids` and `ivf.rows` (tests of that form). */
  ivfWholeDirectory?: boolean;
}

// Below this many vector rows a segment carries no HNSW index and is searched by an exact scan
// of its vectors section: exact (recall 1.0) and without hnswlib's per-index cost, a 65,536-entry
// mutex table whatever the index size (2.0 MiB RSS per loaded 256-row segment, against 0 for the
// scan). Measured (bench/small-segments.ts, one segment, top 10, ef 128, 2 cores): a search has
// a fixed cost of ≈ 0.04–0.05 ms through hnswlib, the scan ≈ 0.22–0.27 µs a row at 100–128-d;
// the scan is faster at 128 rows (0.73–0.82×), within 1.1–1.3× at 256, 1.5–1.7× at 384 and 3.5×
// at 1,024 rows. With a filter keeping half the rows the scan wins up to ≈ 1k rows, but the
// unfiltered case decides: 256 is where the scan stops being as fast as the graph.
export const EXACT_SCAN_ROWS = 256;

// From this many vector rows a segment is indexed by clusters (ivf.ts) instead of HNSW: its
// vectors are stored once, and a query touches only the clusters it probes, so nothing needs the
// whole segment in memory. Below it, an in-memory HNSW graph is still the faster search and
// costs little (docs/architecture.md, "Vector index").
export const IVF_ROWS = 10_000;
// Rows per cluster: GloVe-100 50k, docs/benchmarks.md ("vector").
export const IVF_CLUSTER_ROWS = 256;
export const IVF_CODES: CodeKind = 'rabitq';

export interface BuiltSegment {
  bytes: Buffer;
  meta: SegmentMeta;
}

export function checkInput(input: SegmentInput): void {
  const rows = input.ids.length;
  const dim = input.schema.vector_dim;
  if (input.attributes.length !== rows) {
    throw new RangeError(`segment input has ${rows} ids but ${input.attributes.length} attribute rows`);
  }
  if (input.hasVector.length < rows) {
    throw new RangeError(`segment input has ${rows} rows but hasVector covers ${input.hasVector.length}`);
  }
  if (input.vectors.length < rows * dim) {
    throw new RangeError(`segment input has ${rows} rows of dimension ${dim} but ${input.vectors.length} vector floats`);
  }
  if (rows > 0xffffffff) throw new RangeError(`a segment holds at most 2^32 - 1 rows, got ${rows}`);
  checkHnswParams(input.hnsw);
}

export async function buildSegment(input: SegmentInput): Promise<BuiltSegment> {
  return buildSegmentSync(input);
}

export function buildSegmentSync(input: SegmentInput): BuiltSegment {
  checkInput(input);
  const { schema, ids, attributes } = input;
  const rows = ids.length;
  const dim = schema.vector_dim;
  const names = Object.keys(schema.attributes);
  // Inputs cross a worker boundary, where null prototypes are lost: look names up as own keys.
  for (let row = 0; row < rows; row++) {
    for (const name of Object.keys(attributes[row]!)) {
      if (ownValue(schema.attributes, name) === undefined) {
        throw new Error(`row ${row}: attribute '${name}' is not in the namespace schema (${names.join(', ')})`);
      }
    }
  }

  const sections: Array<[string, Buffer]> = [[Sections.ids, encodeIds(ids)]];
  const columns = nameRecord<ColumnStats | null>();
  const text = nameRecord<SegmentMeta['text'][string]>();
  for (const name of names) {
    const attr = schema.attributes[name]!;
    const values = attributes.map((a) => ownValue(a, name));
    const col = encodeColumn(name, attr.type, values);
    sections.push([Sections.column(name), col.bytes]);
    columns[name] = col.stats;
    if (attr.full_text) {
      const field = encodeBlockTextField(createAnalyzer(attr.full_text), values);
      sections.push([Sections.text(name), field.bytes]);
      text[name] = { ...field.stats, format: TEXT_FORMAT_BLOCKS };
    }
  }

  const vectorRows: number[] = [];
  for (let row = 0; row < rows; row++) if (input.hasVector[row] === 1) vectorRows.push(row);
  if (vectorRows.length > 0 && vectorRows.length >= (input.ivfFrom ?? IVF_ROWS)) {
    const ivf = encodeIvf({
      metric: schema.vector_metric,
      dim,
      rows,
      data: input.vectors,
      hasVector: checkedVectors(rows, dim, input.vectors, input.hasVector),
      clusterRows: input.ivfClusterRows ?? IVF_CLUSTER_ROWS,
      codes: input.ivfCodes ?? IVF_CODES,
      seed: input.hnsw.seed ?? DEFAULT_HNSW_SEED,
      ...(input.ivfWholeDirectory === true ? { wholeDirectory: true } : {}),
    });
    sections.push([Sections.ivf, ivf.directory], [Sections.ivfCodes, ivf.codes], [Sections.ivfVectors, ivf.vectors]);
    if (ivf.rows !== null) sections.push([Sections.ivfRows, ivf.rows]);
    if (ivf.centroids !== null) sections.push([Sections.ivfCentroids, ivf.centroids]);
    return assembleSegment(sections, { rows, dim, metric: schema.vector_metric, columns, text });
  }
  sections.push([Sections.vectors, encodeVectors(rows, dim, input.vectors, input.hasVector)]);
  if (vectorRows.length > 0 && vectorRows.length >= (input.exactScanBelow ?? EXACT_SCAN_ROWS)) {
    sections.push([Sections.hnsw, buildHnswBytes({
      metric: schema.vector_metric,
      dim,
      data: input.vectors,
      rows: vectorRows,
      params: input.hnsw,
      tmpDir: input.tmpDir ?? tmpdir(),
    })]);
  }
  return assembleSegment(sections, { rows, dim, metric: schema.vector_metric, columns, text });
}
