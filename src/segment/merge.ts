// Compaction input: the live rows of several segments, concatenated in the given order.
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import type { SegmentInput } from './builder.ts';
import type { HnswParams } from './hnsw.ts';
import type { SegmentReader } from './reader.ts';

/** Rows a merge reads its vectors in at a time, through the inputs' cluster blocks (IVF). */
const VECTOR_CHUNK_ROWS = 8192;

type MergeReaders = ReadonlyArray<{ reader: SegmentReader; live: Uint8Array }>;

/**
 * Concatenates the rows with live[row] === 1 of each reader, in reader order then row order,
 * into the input of one new segment. The readers must share vector dimension and metric;
 * ids must be unique across the live rows (the caller's deletions guarantee it). Every reader's
 * vectors must be in memory (loadVectors); readMergeInputs reads them by block instead.
 */
export function mergeInputs(readers: MergeReaders, hnsw: HnswParams, current?: NamespaceSchema): SegmentInput {
  const { input, outRows } = mergeLayout(readers, hnsw, current);
  const dim = input.schema.vector_dim;
  readers.forEach(({ reader }, i) => {
    const data = reader.vectorData();
    outRows[i]!.forEach((out, row) => {
      const off = out < 0 ? -1 : reader.vectorOffset(row);
      if (off < 0) return;
      input.vectors.set(data.subarray(off, off + dim), out * dim);
      input.hasVector[out] = 1;
    });
  });
  return input;
}

/**
 * mergeInputs without any input whole in memory: each input's vectors are streamed in storage
 * order (IVF: cluster by cluster, SegmentReader.streamVectors), at most an eighth of an input
 * per read, so a merge holds its output's vectors (the build needs them all) and one chunk,
 * never an input's whole vectors section as well. merge-ivf.ts does without the former.
 */
export async function readMergeInputs(readers: MergeReaders, hnsw: HnswParams, current?: NamespaceSchema): Promise<SegmentInput> {
  const { input, outRows } = mergeLayout(readers, hnsw, current);
  const dim = input.schema.vector_dim;
  for (const [i, { reader }] of readers.entries()) {
    const out = outRows[i]!;
    for await (const { rows, data } of reader.streamVectors(mergeChunkRows(reader))) {
      rows.forEach((row, j) => {
        if (out[row]! < 0) return;
        input.vectors.set(data.subarray(j * dim, j * dim + dim), out[row]! * dim);
        input.hasVector[out[row]!] = 1;
      });
    }
  }
  return input;
}

/** Rows a merge streams from `reader` at a time: at most an eighth of it, so no input is ever read whole at once. */
export function mergeChunkRows(reader: SegmentReader): number {
  const vectorRows = reader.ivfDirectory?.vectorRows ?? reader.rows;
  return Math.min(VECTOR_CHUNK_ROWS, Math.max(1, Math.ceil(vectorRows / 8)));
}

/** Ids and attributes of the merged rows, zeroed vectors, and where each input row lands (-1: dropped). */
export function mergeLayout(readers: MergeReaders, hnsw: HnswParams, current?: NamespaceSchema): { input: SegmentInput; outRows: Int32Array[] } {
  const first = readers[0];
  if (first === undefined) throw new RangeError('mergeInputs needs at least one segment');
  /** The namespace's schema now: attributes added since some inputs were opened are kept. */
  const schema = current ?? first.reader.schema;
  const dim = schema.vector_dim;
  let total = 0;
  for (const { reader, live } of readers) {
    if (reader.meta.dim !== dim || reader.meta.metric !== schema.vector_metric) {
      throw new Error(`cannot merge a ${reader.meta.dim}-d ${reader.meta.metric} segment into ${dim}-d ${schema.vector_metric}`);
    }
    if (live.length < reader.rows) throw new RangeError(`live has ${live.length} entries for a segment of ${reader.rows} rows`);
    for (let row = 0; row < reader.rows; row++) if (live[row] === 1) total++;
  }

  const ids: DocId[] = new Array<DocId>(total);
  const attributes: Record<string, AttributeValue>[] = new Array<Record<string, AttributeValue>>(total);
  const outRows: Int32Array[] = [];
  let out = 0;
  for (const { reader, live } of readers) {
    const at = new Int32Array(reader.rows).fill(-1);
    for (let row = 0; row < reader.rows; row++) {
      if (live[row] !== 1) continue;
      ids[out] = reader.id(row);
      attributes[out] = reader.attributes(row);
      at[row] = out++;
    }
    outRows.push(at);
  }
  const input = { schema, ids, vectors: new Float32Array(total * dim), hasVector: new Uint8Array(total), attributes, hnsw };
  return { input, outRows };
}
