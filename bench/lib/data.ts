// Where the benchmark data lives and how to read it: ../shared/data relative to the repository
// root (DESIGN.md §9), TEXMEX .fvecs/.ivecs (per row: little-endian int32 dimension, then that
// many float32 / int32 values).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DATA = resolve(ROOT, '../shared/data');
export const GLOVE_DIR = join(SHARED_DATA, 'glove-100-angular-50k');
export const SCIFACT_DIR = join(SHARED_DATA, 'scifact');

export interface Matrix<T extends Float32Array | Int32Array> {
  rows: number;
  dim: number;
  /** rows × dim, row-major. */
  data: T;
}

function readVecs<T extends Float32Array | Int32Array>(path: string, make: (n: number) => T, kind: 'f' | 'i'): Matrix<T> {
  const buf = readFileSync(path);
  if (buf.length < 4) throw new Error(`${path}: empty`);
  const dim = buf.readInt32LE(0);
  const stride = 4 + dim * 4;
  if (dim <= 0 || buf.length % stride !== 0) throw new Error(`${path}: not a ${kind}vecs file of dimension ${dim}`);
  const rows = buf.length / stride;
  const data = make(rows * dim);
  for (let r = 0; r < rows; r++) {
    const at = r * stride;
    if (buf.readInt32LE(at) !== dim) throw new Error(`${path}: row ${r} has dimension ${buf.readInt32LE(at)}, expected ${dim}`);
    for (let j = 0; j < dim; j++) {
      data[r * dim + j] = kind === 'f' ? buf.readFloatLE(at + 4 + j * 4) : buf.readInt32LE(at + 4 + j * 4);
    }
  }
  return { rows, dim, data };
}

export function readFvecs(path: string): Matrix<Float32Array> {
  return readVecs(path, (n) => new Float32Array(n), 'f');
}

export function readIvecs(path: string): Matrix<Int32Array> {
  return readVecs(path, (n) => new Int32Array(n), 'i');
}

export interface Glove {
  base: Matrix<Float32Array>;
  queries: Matrix<Float32Array>;
  /** Exact cosine top-100 ids into base, best first, one row per query. */
  groundTruth: Matrix<Int32Array>;
  /** The word of each base row. */
  words: string[];
}

const GLOVE_FILES = ['base.fvecs', 'query.fvecs', 'groundtruth.cosine.ivecs', 'base.words.txt'];

export function gloveAvailable(): boolean {
  return GLOVE_FILES.every((f) => existsSync(join(GLOVE_DIR, f)));
}

export function loadGlove(): Glove {
  return {
    base: readFvecs(join(GLOVE_DIR, 'base.fvecs')),
    queries: readFvecs(join(GLOVE_DIR, 'query.fvecs')),
    groundTruth: readIvecs(join(GLOVE_DIR, 'groundtruth.cosine.ivecs')),
    words: readFileSync(join(GLOVE_DIR, 'base.words.txt'), 'utf8').split('\n').slice(0, 50_000),
  };
}

/** The first `limit` query vectors as plain arrays (what JSON bodies and hnswlib-node take). */
/** The GloVe data, or null after saying that benchmark `name` is skipped because it is missing. */
export function loadGloveOrSkip(name: string): Glove | null {
  if (gloveAvailable()) return loadGlove();
  console.log(`${name}: GloVe data not found at ${GLOVE_DIR}; skipping.`);
  return null;
}

export function queryVectors(glove: Glove, limit: number): number[][] {
  return Array.from({ length: Math.min(limit, glove.queries.rows) }, (_, q) => rowArray(glove.queries, q));
}

/** Row r of a matrix as a plain number[] (what JSON bodies and hnswlib-node take). */
export function rowArray(m: Matrix<Float32Array>, r: number): number[] {
  return Array.from(m.data.subarray(r * m.dim, (r + 1) * m.dim));
}

/** Row r as its own Float32Array (a copy, so documents do not pin the whole matrix). */
export function rowF32(m: Matrix<Float32Array>, r: number): Float32Array {
  return m.data.slice(r * m.dim, (r + 1) * m.dim);
}

/** The first k ground-truth ids of query q. */
export function truthTopK(gt: Matrix<Int32Array>, q: number, k: number): number[] {
  return Array.from(gt.data.subarray(q * gt.dim, q * gt.dim + k));
}

/** |found ∩ truth| / |truth|. */
export function recall(found: readonly number[], truth: readonly number[]): number {
  if (truth.length === 0) return 1;
  const want = new Set(truth);
  let hit = 0;
  for (const id of found) if (want.has(id)) hit++;
  return hit / truth.length;
}
