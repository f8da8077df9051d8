// The clustered (IVF) vector index of a large segment, in three sections (docs/segments.md):
//
//   ivf           the directory, small and read at open:
//                   u32 rows, u32 dim, u32 clusters, u32 vector rows,
//                   u32 code kind (0 u8, 1 bits, 2 rabitq) | ROWS_APART | CENTROIDS_APART, u32 rotation seed
//                   f32[clusters × dim]  centroids (of the normalized vectors, for cosine), unless
//                                        CENTROIDS_APART: then they are `ivf.centroids`
//                   f64[clusters + 1]    byte offset of each cluster's codes block in `ivf.codes`
//                   u32[clusters + 1]    first slot of each cluster (slots: rows in cluster order)
//                   u32[clusters]        CRC-32 of each codes block (a block is read alone)
//                   f32[dim] min, f32[dim] step   the u8 quantizer, per dimension (bits: unused)
//                   without ROWS_APART (segments written before): the two arrays of `ivf.rows`
//   ivf.centroids with CENTROIDS_APART, the centroids alone: read at open, unless the manifest
//                 pointer's route for the segment (ivf-route.ts) carries the same bytes (checked
//                 against this section's CRC in the segment table), which a cold open has already
//   ivf.rows      with ROWS_APART, read only when a row is asked for by number (get, list, an
//                 exact scan of given rows, loadVectors), not by a search or a merge (which
//                 streams the clusters):
//                   f32[rows]            norms (0 for rows without a vector)
//                   u32[rows]            slot of each row (0xffffffff: no vector)
//   ivf.codes     one block per cluster, 8-byte aligned, readable by itself with one ranged read:
//                   u32[n] rows, u8[n × code bytes] codes, pad to 4, f32[n] factors (bits, rabitq),
//                   f32[n] offsets (rabitq only), f32[n] norms (with ROWS_APART)
//   ivf.vectors   one record per slot: f32[dim] vector, u32 CRC-32 of those dim × 4 bytes
//
// A search needs each scanned row's norm (l2 estimates) and each candidate's slot (its record):
// the norms are in the block it scans and the slot is where the row sits in it, so a search
// reads no per-row array. The norms and slots of all rows were 8 bytes a row of the directory,
// 7.6 MiB of a cold first query's 25 MiB at 1M rows (docs/benchmarks.md, "scale"). After that the
// directories were almost only their centroids (2.9 of a 1M namespace's 10.2 MiB read at open),
// which the pointer's routes already carried.
//
// Codes, for the scan: `u8` quantizes each dimension to a byte over its min..max in the
// segment. `bits` and `rabitq` keep the sign of each dimension of the rotated residual
// r = x − c (c its cluster's centroid) and a factor ‖r‖²/Σ|r_d|, and estimate q·x = q·c + q·r
// with q·r from the signs, the sign sum one table lookup per code byte. `bits` (segments written
// before) estimates q·r as factor × Σ sign(r_d) q_d, whose error grows with ‖q‖; `rabitq`
// estimates (q − c)·r that way, as RaBitQ does, and adds c·r, which it stores per row with the
// signs' share of c taken out (the offset c·r − factor × Σ sign(r_d) c_d): the error now grows
// with ‖q − c‖, the query's distance from the cluster, not from the origin. On 200k clustered
// 128-d rows, 1,000 per generated cluster, recall@10 was 0.940 at every nprobe with `bits` and
// the 400 best estimates re-ranked, 1.000 with `rabitq` (0.955 with only 100 re-ranked);
// docs/benchmarks.md ("ivf") compares the kinds.
//
// The float32 vectors are stored once, apart from the codes: a search scans the codes of the
// nearest `nprobe` clusters and re-ranks its few hundred best candidates exactly from their own
// records, read by range (each checked by its CRC), not from the clusters' whole float blocks,
// which were ≈ 90 % of what a probe read. Segments written before (`ivf.clusters`: each block
// also held its cluster's vectors, after the factors) are still read (`layout: 'blocks'`).
//
// This file writes the sections; ivf-directory.ts reads them.
import { crc32 } from 'node:zlib';
import type { VectorMetric } from '../schema/types.ts';
import { SectionWriter } from './binary.ts';
import { norm } from './distance.ts';
import {
  CENTROIDS_APART, CODE_KINDS, codeBytesOf, floatsPerRow, NONE, recordBytes, rotatedDim, ROWS_APART, type CodeKind,
} from './ivf-directory.ts';
import { partitionRows, seededRandom } from './kmeans.ts';

export type { CodeKind } from './ivf-directory.ts';

export interface IvfBuildOptions {
  metric: VectorMetric;
  dim: number;
  rows: number;
  /** rows × dim, row-major; only rows with hasVector[row] === 1 are read. */
  data: Float32Array;
  hasVector: Uint8Array;
  /** Target rows per cluster. */
  clusterRows: number;
  codes: CodeKind;
  seed: number;
  /** Centroids, norms and slots inside the directory, as segments were written before `ivf.centroids` and `ivf.rows` (tests of that form). */
  wholeDirectory?: boolean;
}

/** Encodes the IVF sections; `rows` and `centroids` are null when the directory holds them (wholeDirectory). */
export function encodeIvf(opts: IvfBuildOptions): { directory: Buffer; rows: Buffer | null; centroids: Buffer | null; codes: Buffer; vectors: Buffer } {
  const apart = opts.wholeDirectory !== true;
  const { metric, dim, rows, data, hasVector } = opts;
  const norms = new Float32Array(rows);
  const vectorRows: number[] = [];
  for (let row = 0; row < rows; row++) {
    if (hasVector[row] !== 1) continue;
    vectorRows.push(row);
    norms[row] = norm(data, row * dim, dim);
  }
  // Cosine clusters and codes are of the normalized vectors, the space its distance lives in.
  const space = metric === 'cosine' ? normalizedCopy(data, dim, vectorRows, norms) : data;
  const parts = partitionRows(space, dim, Uint32Array.from(vectorRows), opts.clusterRows, opts.seed);
  const clusters = parts.length;

  const min = new Float32Array(dim).fill(Infinity);
  const max = new Float32Array(dim).fill(-Infinity);
  for (const row of vectorRows) {
    for (let d = 0; d < dim; d++) {
      const x = space[row * dim + d]!;
      if (x < min[d]!) min[d] = x;
      if (x > max[d]!) max[d] = x;
    }
  }
  const step = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    if (!(min[d]! <= max[d]!)) min[d] = 0;
    step[d] = max[d]! > min[d]! ? (max[d]! - min[d]!) / 255 : 1;
  }

  const centroids = new Float32Array(clusters * dim);
  parts.forEach((part, c) => {
    for (const row of part) for (let d = 0; d < dim; d++) centroids[c * dim + d]! += space[row * dim + d]! / part.length;
  });
  const blockOffsets = new Float64Array(clusters + 1);
  const slotStart = new Uint32Array(clusters + 1);
  const slotOf = new Uint32Array(rows).fill(NONE);
  const codeBytes = codeBytesOf(opts.codes, dim);
  const blocks = new SectionWriter(vectorRows.length * (codeBytes + 8) + clusters * 16);
  const records = Buffer.alloc(vectorRows.length * recordBytes(dim));
  const rotate = rotation(dim, opts.seed);
  const residual = new Float64Array(dim);
  const rotated = new Float64Array(rotatedDim(dim));
  const rotatedCentroid = new Float64Array(rotatedDim(dim));
  let slot = 0;
  parts.forEach((part, c) => {
    blocks.align(8);
    blockOffsets[c] = blocks.length;
    slotStart[c] = slot;
    const n = part.length;
    const codes = new Uint8Array(n * codeBytes);
    const factors = new Float32Array(floatsPerRow(opts.codes) * n);
    if (opts.codes === 'rabitq') rotate(centroids, c * dim, rotatedCentroid);
    for (let i = 0; i < n; i++) {
      const row = part[i]!;
      const at = slot * recordBytes(dim);
      const vector = Buffer.from(data.buffer, data.byteOffset + row * dim * 4, dim * 4);
      vector.copy(records, at);
      records.writeUInt32LE(crc32(vector), at + dim * 4);
      slotOf[row] = slot++;
      if (opts.codes === 'u8') {
        for (let d = 0; d < dim; d++) {
          codes[i * dim + d] = Math.max(0, Math.min(255, Math.round((space[row * dim + d]! - min[d]!) / step[d]!)));
        }
        continue;
      }
      for (let d = 0; d < dim; d++) residual[d] = space[row * dim + d]! - centroids[c * dim + d]!;
      rotate(residual, 0, rotated);
      let sq = 0;
      let abs = 0;
      for (let d = 0; d < rotated.length; d++) {
        const r = rotated[d]!;
        sq += r * r;
        abs += Math.abs(r);
        if (r > 0) codes[i * codeBytes + (d >>> 3)]! |= 1 << (d & 7);
      }
      factors[i] = abs > 0 ? sq / abs : 0;
      if (opts.codes === 'rabitq') {
        // c·r exact, less the factor times the signs' sum over c (the rotation keeps dot products).
        let cr = 0;
        let signs = 0;
        for (let d = 0; d < rotated.length; d++) {
          cr += rotatedCentroid[d]! * rotated[d]!;
          signs += rotated[d]! > 0 ? rotatedCentroid[d]! : -rotatedCentroid[d]!;
        }
        factors[n + i] = cr - factors[i]! * signs;
      }
    }
    blocks.array(part);
    blocks.array(codes);
    blocks.array(factors);
    if (apart) blocks.array(Float32Array.from(part, (row) => norms[row]!));
  });
  const clusterBytes = blocks.finish();
  blockOffsets[clusters] = clusterBytes.byteLength;
  const crcs = new Uint32Array(clusters);
  for (let c = 0; c < clusters; c++) crcs[c] = crc32(clusterBytes.subarray(blockOffsets[c]!, blockOffsets[c + 1]!));
  slotStart[clusters] = slot;

  const dir = new SectionWriter(16 + centroids.byteLength + blockOffsets.byteLength + slotStart.byteLength + dim * 8 + rows * 8 + 16);
  dir.u32(rows);
  dir.u32(dim);
  dir.u32(clusters);
  dir.u32(vectorRows.length);
  dir.u32(CODE_KINDS.indexOf(opts.codes) | (apart ? ROWS_APART | CENTROIDS_APART : 0));
  dir.u32(opts.seed >>> 0);
  for (const a of [...(apart ? [] : [centroids]), blockOffsets, slotStart, crcs, min, step]) dir.array(a);
  if (!apart) {
    dir.array(norms);
    dir.array(slotOf);
    return { directory: dir.finish(), rows: null, centroids: null, codes: clusterBytes, vectors: records };
  }
  const rowMaps = new SectionWriter(rows * 8 + 16);
  rowMaps.array(norms);
  rowMaps.array(slotOf);
  const centroidSection = new SectionWriter(centroids.byteLength + 8);
  centroidSection.array(centroids);
  return { directory: dir.finish(), rows: rowMaps.finish(), centroids: centroidSection.finish(), codes: clusterBytes, vectors: records };
}

/**
 * A random orthogonal map for the bits codes: random signs, then a normalized fast
 * Walsh–Hadamard transform, twice (O(d log d), as RaBitQ implementations do in place of a dense
 * random rotation). It spreads a vector's energy evenly over the dimensions, which is what makes
 * one sign bit per dimension a good estimator. Returns rotate(src, srcOffset, out).
 */
export function rotation(dim: number, seed: number): (src: ArrayLike<number>, offset: number, out: Float64Array) => void {
  const p = rotatedDim(dim);
  const rand = seededRandom(seed ^ 0x5eed);
  const signs = [new Float64Array(p), new Float64Array(p)];
  for (const s of signs) for (let i = 0; i < p; i++) s[i] = rand() < 0.5 ? -1 : 1;
  const scale = 1 / Math.sqrt(p);
  return (src, offset, out) => {
    for (let i = 0; i < p; i++) out[i] = i < dim ? src[offset + i]! : 0;
    for (const s of signs) {
      for (let i = 0; i < p; i++) out[i]! *= s[i]!;
      for (let h = 1; h < p; h *= 2) {
        for (let i = 0; i < p; i += 2 * h) {
          for (let j = i; j < i + h; j++) {
            const a = out[j]!;
            const b = out[j + h]!;
            out[j] = a + b;
            out[j + h] = a - b;
          }
        }
      }
      for (let i = 0; i < p; i++) out[i]! *= scale;
    }
  };
}

function normalizedCopy(data: Float32Array, dim: number, rows: readonly number[], norms: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (const row of rows) {
    const n = norms[row]!;
    if (n === 0) continue;
    for (let d = 0; d < dim; d++) out[row * dim + d] = data[row * dim + d]! / n;
  }
  return out;
}
