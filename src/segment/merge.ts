// Compaction input: the live rows of several segments, concatenated in the given order.
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import type { SegmentInput } from './builder.ts';
import type { HnswParams } from './hnsw.ts';
import type { SegmentReader } from './reader.ts';

/**
 * Concatenates the rows with live[row] === 1 of each reader, in reader order then row order,
 * into the input of one new segment. The readers must share vector dimension and metric;
 * ids must be unique across the live rows (the caller's deletions guarantee it).
 */
export function mergeInputs(
  readers: ReadonlyArray<{ reader: SegmentReader; live: Uint8Array }>,
  hnsw: HnswParams,
  /** The namespace's schema now: attributes added since some inputs were opened are kept. */
  current?: NamespaceSchema,
): SegmentInput {
  const first = readers[0];
  if (first === undefined) throw new RangeError('mergeInputs needs at least one segment');
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
  const vectors = new Float32Array(total * dim);
  const hasVector = new Uint8Array(total);
  let out = 0;
  for (const { reader, live } of readers) {
    const data = reader.vectorData();
    for (let row = 0; row < reader.rows; row++) {
      if (live[row] !== 1) continue;
      ids[out] = reader.id(row);
      attributes[out] = reader.attributes(row);
      const off = reader.vectorOffset(row);
      if (off >= 0) {
        vectors.set(data.subarray(off, off + dim), out * dim);
        hasVector[out] = 1;
      }
      out++;
    }
  }
  return { schema, ids, vectors, hasVector, attributes, hnsw };
}
