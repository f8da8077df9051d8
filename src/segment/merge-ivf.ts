// Merges segments into one IVF segment without clustering one input's rows again (docs/segments.md,
// "Merges"): when one input holds most of the output (keptInput), its clusters are kept, each with
// its centroid and its live rows' codes (copied when the code kind and rotation seed agree, else
// encoded again against the same centroid), and only the other inputs' rows are clustered, on the
// build pool, with the ids, columns and text of the merged rows.
//
// Why not re-train: k-means is ≈ 80 % of a build, and a merge that re-clustered 1M rows held all
// of their vectors (plus a normalized copy and the encoded output: 2.9 GB peak RSS at 1M, bench
// scale). Kept clusters are still ≈ target rows each (fewer after deletions).
//
// Memory: the output object, written in place (SegmentInPlace), the directory's per-row arrays
// (8 bytes a row), one run of the kept input's clusters (≤ 8,192 rows) at a time, and the other
// inputs' vectors (≤ 1 − KEEP_SHARE of the output's), never the kept input's vectors as an
// array. The object is whole in memory because the store's put takes one buffer.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { NamespaceSchema } from '../schema/types.ts';
import { IVF_CODES, IVF_CLUSTER_ROWS, type BuiltSegment, type SegmentInput } from './builder.ts';
import { Sections, SegmentInPlace } from './format.ts';
import { DEFAULT_HNSW_SEED, type HnswParams } from './hnsw.ts';
import {
  blockBytes, codeBytesOf, codeEncoder, directoryBytes, encodeDirectory, IvfDirectory, recordBytes, type CodeKind,
} from './ivf.ts';
import { IvfIndex, type StreamedCluster } from './ivf-reader.ts';
import { lruPartCache } from './part-cache.ts';
import { mergeChunkRows, mergeLayout } from './merge.ts';
import type { SegmentReader } from './reader.ts';

const NONE = 0xffffffff;
/** Rows copied between two macrotask turns: ≈ 1 ms of copying and hashing records here. */
const SLICE_ROWS = 1024;

type MergeReaders = ReadonlyArray<{ reader: SegmentReader; live: Uint8Array }>;

export interface IvfMergeOptions {
  hnsw: HnswParams;
  /** The namespace's schema now (attributes added since the inputs were written). */
  schema?: NamespaceSchema;
  ivfFrom: number;
  clusterRows?: number;
  codes?: CodeKind;
  /** Builds ids, columns, text (and the clusters of rows from inputs without any) off this thread: the build pool. */
  buildRest: (input: SegmentInput) => Promise<BuiltSegment>;
}

/** Where a merge takes clusters from: an input's IVF index, or the clusters built for the rows of inputs without one. */
interface ClusterSource {
  dir: IvfDirectory;
  stream: (maxRows: number) => AsyncGenerator<StreamedCluster[]>;
  /** The output row of one of its rows, -1 when the row is not merged. */
  outRow: (row: number) => number;
}

/**
 * The share of the output's vector rows that one input must hold for its clusters to be kept.
 * Kept clusters of several inputs overlap: on near-uniform 32-d data (test/segment/merge-ivf)
 * two equal inputs kept side by side needed about 1.5× the nprobe of a rebuild for the same
 * recall, since each input is in effect probed with its share of nprobe. One dominant input's
 * clusters, plus fresh clusters for the rest, lose little.
 */
export const KEEP_SHARE = 0.75;

/**
 * The input whose clusters a merge keeps (mergeIvf), or -1 when the output is rebuilt: the
 * output is an IVF segment (≥ ivfFrom rows with a vector), and one IVF input (not of the older
 * `blocks` layout) holds at least KEEP_SHARE of its vector rows: the segment a deletions-only
 * rewrite cleans, or a large segment taking in small ones.
 */
export function keptInput(readers: MergeReaders, ivfFrom: number): number {
  const counts = readers.map(({ reader, live }) => {
    const dir = reader.ivfDirectory;
    let n = 0;
    for (let row = 0; row < reader.rows; row++) {
      if (live[row] === 1 && (dir !== null ? dir.slotOf[row] !== NONE : reader.vectorOffset(row) >= 0)) n++;
    }
    return n;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const largest = counts.indexOf(Math.max(...counts));
  const dir = readers[largest]?.reader.ivfDirectory ?? null;
  return total >= ivfFrom && total > 0 && dir !== null && dir.layout === 'apart' && counts[largest]! >= KEEP_SHARE * total ? largest : -1;
}

/** The merged segment of the live rows of `readers` (in reader order, then row order, as mergeInputs). */
export async function mergeIvf(readers: MergeReaders, opts: IvfMergeOptions): Promise<BuiltSegment> {
  const { input, outRows } = mergeLayout(readers, opts.hnsw, opts.schema, false);
  const { schema } = input;
  const dim = schema.vector_dim;
  const rows = input.ids.length;
  const seed = opts.hnsw.seed ?? DEFAULT_HNSW_SEED;
  const kind = opts.codes ?? IVF_CODES;

  // The other inputs' rows go to the build pool with the rest, and come back clustered: they are
  // at most 1 − KEEP_SHARE of the output's.
  const kept = keptInput(readers, opts.ivfFrom);
  if (kept < 0) throw new Error('mergeIvf: no input holds enough of the output to keep its clusters (keptInput)');
  const loose = new Float32Array(readers.length > 1 ? rows * dim : 0);
  const hasVector = new Uint8Array(rows);
  for (const [i, { reader }] of readers.entries()) {
    if (i === kept) continue;
    const out = outRows[i]!;
    for await (const chunk of reader.streamVectors(mergeChunkRows(reader.ivfDirectory?.vectorRows ?? reader.rows))) {
      chunk.rows.forEach((row, j) => {
        if (out[row]! < 0) return;
        loose.set(chunk.data.subarray(j * dim, j * dim + dim), out[row]! * dim);
        hasVector[out[row]!] = 1;
      });
    }
  }
  const looseRows = hasVector.reduce((n, h) => n + h, 0);
  const rest = await opts.buildRest({
    ...input, vectors: looseRows > 0 ? loose : new Float32Array(0), hasVector,
    ...(looseRows > 0 ? { ivfFrom: 1, ivfClusterRows: opts.clusterRows ?? IVF_CLUSTER_ROWS, ivfCodes: kind } : { vectorsApart: true }),
  });

  const keptOut = outRows[kept]!;
  const keptReader = readers[kept]!.reader;
  const sources: ClusterSource[] = [
    { dir: keptReader.ivfDirectory!, stream: (n) => keptReader.streamClusters(n), outRow: (row) => keptOut[row]! },
  ];
  if (looseRows > 0) sources.push(builtClusters(rest));

  // The output's clusters: every source cluster that keeps a row, in source order.
  const plan = sources.map((s) => liveCounts(s));
  const sizes = plan.flatMap((counts) => [...counts].filter((n) => n > 0));
  const clusters = sizes.length;
  const vectorRows = sizes.reduce((a, b) => a + b, 0);
  const slotStart = new Uint32Array(clusters + 1);
  const blockOffsets = new Float64Array(clusters + 1);
  sizes.forEach((n, k) => {
    slotStart[k + 1] = slotStart[k]! + n;
    blockOffsets[k + 1] = blockOffsets[k]! + blockBytes(kind, dim, n);
  });
  const { min, step } = mergedQuantizer(sources.map((s) => s.dir), dim);

  const restSections = Object.entries(rest.meta.sections)
    .filter(([name]) => !name.startsWith(Sections.ivf))
    .sort((a, b) => a[1].offset - b[1].offset);
  const out = new SegmentInPlace([
    ...restSections.map(([name, e]): [string, number] => [name, e.length]),
    [Sections.ivf, directoryBytes(clusters, dim, rows)],
    [Sections.ivfCodes, blockOffsets[clusters]!],
    [Sections.ivfVectors, vectorRows * recordBytes(dim)],
  ], { rows, dim, metric: schema.vector_metric, columns: rest.meta.columns, text: rest.meta.text });
  for (const [name, e] of restSections) rest.bytes.copy(out.section(name), 0, e.offset, e.offset + e.length);

  const codesOut = out.section(Sections.ivfCodes);
  const recordsOut = out.section(Sections.ivfVectors);
  const centroids = new Float32Array(clusters * dim);
  const crcs = new Uint32Array(clusters);
  const norms = new Float32Array(rows);
  const slotOf = new Uint32Array(rows).fill(NONE);
  const encode = codeEncoder(kind, dim, seed, min, step);
  const codeBytes = codeBytesOf(kind, dim);
  const rb = recordBytes(dim);
  const space = new Float32Array(dim);
  let k = 0;
  let sinceTurn = 0;
  for (const [s, source] of sources.entries()) {
    const { dir } = source;
    const copies = dir.codes === kind && (kind === 'bits' ? dir.seed === (seed >>> 0) : sameQuantizer(dir, min, step));
    for await (const run of prefetched(source.stream(mergeChunkRows(dir.vectorRows)))) {
      for (const { cluster: c, block, vectors } of run) {
        if (plan[s]![c] === 0) continue;
        const n = sizes[k]!;
        const at = codesOut.byteOffset + blockOffsets[k]!;
        const blockRows = new Uint32Array(codesOut.buffer, at, n);
        const codes = new Uint8Array(codesOut.buffer, at + 4 * n, n * codeBytes);
        const factors = new Float32Array(codesOut.buffer, at + Math.ceil((4 * n + n * codeBytes) / 4) * 4, kind === 'bits' ? n : 0);
        centroids.set(dir.centroids.subarray(c * dim, c * dim + dim), k * dim);
        let j = 0;
        for (let i = 0; i < block.rows.length; i++) {
          const row = source.outRow(block.rows[i]!);
          if (row < 0) continue;
          const slot = slotStart[k]! + j;
          blockRows[j] = row;
          const vector = vectors.subarray(i * dim, i * dim + dim);
          const bytes = new Uint8Array(vector.buffer, vector.byteOffset, dim * 4);
          recordsOut.set(bytes, slot * rb);
          recordsOut.writeUInt32LE(crc32(bytes), slot * rb + dim * 4);
          const norm = dir.norms[block.rows[i]!]!;
          norms[row] = norm;
          slotOf[row] = slot;
          if (copies) {
            codes.set(block.codes.subarray(i * codeBytes, (i + 1) * codeBytes), j * codeBytes);
            if (kind === 'bits') factors[j] = block.factors[i]!;
          } else {
            // Codes are of the normalized vector for cosine, as encodeIvf's.
            const scale = schema.vector_metric === 'cosine' && norm > 0 ? 1 / norm : 1;
            for (let d = 0; d < dim; d++) space[d] = vector[d]! * scale;
            encode(space, 0, centroids, k * dim, codes, factors, j);
          }
          j++;
          if (++sinceTurn >= SLICE_ROWS) {
            sinceTurn = 0;
            await nextTurn();
          }
        }
        crcs[k] = crc32(codesOut.subarray(blockOffsets[k]!, blockOffsets[k + 1]!));
        k++;
      }
    }
  }
  encodeDirectory({ rows, dim, vectorRows, codes: kind, seed, centroids, blockOffsets, slotStart, crcs, min, step, norms, slotOf })
    .copy(out.section(Sections.ivf));
  return out.finish();
}

/** Live rows per cluster of a source. */
function liveCounts(source: ClusterSource): Uint32Array {
  const { dir } = source;
  const counts = new Uint32Array(dir.clusters);
  const clusterOfSlot = new Uint32Array(dir.vectorRows);
  for (let c = 0; c < dir.clusters; c++) clusterOfSlot.fill(c, dir.slotStart[c]!, dir.slotStart[c + 1]!);
  for (let row = 0; row < dir.rows; row++) {
    const slot = dir.slotOf[row]!;
    if (slot !== NONE && source.outRow(row) >= 0) counts[clusterOfSlot[slot]!]!++;
  }
  return counts;
}

/** The clusters the build pool made of the loose rows, read from the object it returned (rows are already output rows). */
function builtClusters(rest: BuiltSegment): ClusterSource {
  const { meta, bytes } = rest;
  const section = (name: string) => meta.sections[name]!;
  const dirBytes = Buffer.from(bytes.subarray(section(Sections.ivf).offset, section(Sections.ivf).offset + section(Sections.ivf).length));
  const dir = new IvfDirectory(aligned(dirBytes), 'apart');
  const index = new IvfIndex(dir, { blocks: section(Sections.ivfCodes), vectors: section(Sections.ivfVectors) },
    async (_name, range) => bytes.subarray(range.offset, range.offset + range.length), lruPartCache(1));
  return { dir, stream: (n) => index.streamClusters(n), outRow: (row) => row };
}

function aligned(b: Buffer): Buffer {
  const out = Buffer.from(new ArrayBuffer(b.byteLength));
  b.copy(out);
  return out;
}

/** The u8 quantizer over every source's range (bits codes keep it too: it is cheap and keeps u8 possible). */
function mergedQuantizer(dirs: readonly IvfDirectory[], dim: number): { min: Float32Array; step: Float32Array } {
  const min = new Float32Array(dim).fill(Infinity);
  const max = new Float32Array(dim).fill(-Infinity);
  for (const dir of dirs) {
    for (let d = 0; d < dim; d++) {
      min[d] = Math.min(min[d]!, dir.min[d]!);
      max[d] = Math.max(max[d]!, dir.min[d]! + 255 * dir.step[d]!);
    }
  }
  const step = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    if (!(min[d]! <= max[d]!)) min[d] = 0;
    step[d] = max[d]! > min[d]! ? (max[d]! - min[d]!) / 255 : 1;
  }
  return { min, step };
}

function sameQuantizer(dir: IvfDirectory, min: Float32Array, step: Float32Array): boolean {
  return dir.min.every((m, d) => m === min[d]) && dir.step.every((s, d) => s === step[d]);
}

/** The runs of a stream, the next one already being read while the caller works on this one. */
async function* prefetched<T>(gen: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = gen.next();
  for (;;) {
    const r = await next;
    if (r.done === true) return;
    next = gen.next();
    yield r.value;
  }
}
