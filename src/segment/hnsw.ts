// The one home of hnswlib-node. Its quirks stop here (DESIGN.md §8):
// - it saves and loads only through a file path: a build writes a temporary file and reads the
//   bytes back; a load writes the section's bytes to tmpDir, loads, and deletes the file at once
//   (hnswlib reads the whole file into memory, so the file is not needed afterwards);
// - it takes number[] only: Float32Array rows go through Array.from (exact: f32 → f64 → f32);
// - ef is not saved with the index (it is 10 after a load): set on every search when it changes;
// - searchKnn throws when k exceeds maxElements: k is clamped to the number of indexed rows;
// - labels are uint32 and wrap silently: rows are checked to be < 2^32;
// - a JavaScript exception inside the filter callback cannot cross the C++ frame cleanly: the
//   callback here never throws; an error is kept and rethrown after the search;
// - distances are hnswlib's (cosine and ip: 1 − dot of normalized/raw vectors, l2: squared):
//   callers recompute exact distances in Silt's convention from the raw vectors.
// Calls block the thread they run on: builds run on the build pool's threads (build-pool.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { VectorMetric } from '../schema/types.ts';

type SpaceName = 'cosine' | 'l2' | 'ip';
type Index = InstanceType<typeof hnswlib.HierarchicalNSW>;

export interface HnswParams {
  m: number;
  efConstruction: number;
  /** hnswlib's level generator seed; fixed (default 100, hnswlib's own) so builds are reproducible. */
  seed?: number;
}

export const DEFAULT_HNSW_SEED = 100;

function spaceOf(metric: VectorMetric): SpaceName {
  return metric === 'dot' ? 'ip' : metric;
}

function tmpFile(dir: string): string {
  return join(dir, `silt-hnsw-${process.pid}-${randomUUID()}.bin`);
}

/** Throws on parameters hnswlib cannot build with (checked even for segments built without an index). */
export function checkHnswParams(params: HnswParams): void {
  if (!Number.isInteger(params.m) || params.m < 2) throw new RangeError(`hnsw m must be an integer >= 2, got ${params.m}`);
  if (!Number.isInteger(params.efConstruction) || params.efConstruction < 1) {
    throw new RangeError(`hnsw efConstruction must be an integer >= 1, got ${params.efConstruction}`);
  }
}

/** Builds an index over the given rows (labels = row numbers) and returns the index file bytes. */
export function buildHnswBytes(opts: {
  metric: VectorMetric;
  dim: number;
  data: Float32Array;
  rows: readonly number[];
  params: HnswParams;
  tmpDir: string;
}): Buffer {
  const { dim, data, rows, params } = opts;
  checkHnswParams(params);
  const index = new hnswlib.HierarchicalNSW(spaceOf(opts.metric), dim);
  index.initIndex({
    maxElements: rows.length,
    m: params.m,
    efConstruction: params.efConstruction,
    randomSeed: params.seed ?? DEFAULT_HNSW_SEED,
    allowReplaceDeleted: false,
  });
  for (const row of rows) {
    if (row > 0xffffffff) throw new RangeError(`row ${row} does not fit an hnswlib label (uint32)`);
    index.addPoint(Array.from(data.subarray(row * dim, row * dim + dim)), row);
  }
  const file = tmpFile(opts.tmpDir);
  try {
    index.writeIndexSync(file);
    return readFileSync(file);
  } finally {
    try { unlinkSync(file); } catch { /* never written */ }
  }
}

/** A loaded index. Methods block the event loop for as long as hnswlib runs (~0.1–1 ms a search). */
export class HnswIndex {
  private ef = -1;

  private constructor(private index: Index | null, readonly count: number) {}

  static async load(opts: { bytes: Buffer; metric: VectorMetric; dim: number; tmpDir: string }): Promise<HnswIndex> {
    const index = new hnswlib.HierarchicalNSW(spaceOf(opts.metric), opts.dim);
    const file = tmpFile(opts.tmpDir);
    await writeFile(file, opts.bytes);
    try {
      // The async variant reads in libuv's pool, keeping the event loop free for big indexes.
      await index.readIndex(file, false);
    } finally {
      await rm(file, { force: true });
    }
    return new HnswIndex(index, index.getCurrentCount());
  }

  /**
   * Up to k labels (rows) accepted by `accept`, nearest first by hnswlib's distance. Fewer than k
   * come back when the filter leaves fewer reachable rows than k within ef.
   */
  search(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean): number[] {
    const index = this.index;
    if (index === null) throw new Error('hnsw index used after close()');
    const kk = Math.min(k, this.count);
    if (kk <= 0) return [];
    const want = Math.max(ef, kk);
    if (want !== this.ef) {
      index.setEf(want);
      this.ef = want;
    }
    let failure: unknown;
    const filter = accept === undefined ? undefined : (label: number): boolean => {
      if (failure !== undefined) return false;
      try {
        return accept(label);
      } catch (e) {
        failure = e;
        return false;
      }
    };
    const result = index.searchKnn(Array.from(query), kk, filter);
    if (failure !== undefined) throw failure;
    return result.neighbors;
  }

  /** Drops the native index; its memory is freed when the garbage collector runs its finalizer. */
  close(): void {
    this.index = null;
  }
}
