// Searches a segment's IVF index (ivf.ts): ranks the centroids, scans the codes of the nearest
// clusters, re-ranks the best code estimates exactly from the float32 vectors.
import type { VectorMetric } from '../schema/types.ts';
import { distance, norm } from './distance.ts';
import { rotation } from './ivf.ts';
import { rotatedDim, type IvfCluster, type IvfDirectory } from './ivf-directory.ts';
import type { Neighbours, VectorAccess } from './vector-search.ts';
import { rankCentroids } from './ivf-centroids.ts';

/**
 * Clusters probed for a query that names `ef` but no `nprobe`: ef keeps meaning "search breadth",
 * ef/2 probes of ~256-row clusters (the default ef 128 → 64: recall@10 ≥ 0.95 on GloVe-100 50k,
 * docs/api.md).
 */
export function nprobeOfEf(ef: number): number {
  return Math.max(1, Math.ceil(ef / 2));
}

// Code estimates re-ranked exactly: at least RERANK_MIN, or RERANK_FACTOR per result wanted. One
// sign bit per dimension ranks coarsely: on GloVe-100 50k (256-row clusters, nprobe 48) recall@10
// is 0.72 with 40 candidates re-ranked, 0.86 with 100 and 0.94 with 400, where u8 codes reach
// 0.947 with 40 but scan 2–3× slower (docs/benchmarks.md, "ivf").
const RERANK_MIN = 400;
const RERANK_FACTOR = 4;

export interface IvfSearchOptions {
  metric: VectorMetric;
  k: number;
  nprobe: number;
  accept?: ((row: number) => boolean) | undefined;
  /** Where the codes are scanned: scanClusters on this thread unless given (scan-pool.ts). */
  scan?: ScanClusters | undefined;
  /**
   * The clusters to scan, chosen with other segments' (nearestAcross): exactly these are
   * scanned, no others, and nprobe is not used.
   */
  probe?: readonly number[] | undefined;
}

/**
 * What a scan reads of the directory: plain data, so a worker thread can be handed it. `norms`
 * is read only for blocks that carry none (segments written before ROWS_APART, ivf.ts).
 */
export type ScanDirectory = Pick<IvfDirectory, 'dim' | 'codes' | 'codeBytes' | 'seed' | 'centroids' | 'min' | 'step' | 'norms' | 'slotStart' | 'rowsApart'>;

/** What a scan reads of a cluster's block. */
export type ScanBlock = Pick<IvfCluster, 'rows' | 'codes' | 'factors' | 'norms'>;

/**
 * Rows a scan may keep: a test of the row number, or one mask per block (1 = keep, by position
 * in the block), which is how a filter reaches a worker thread.
 */
export type ScanAccept = ((row: number) => boolean) | readonly Uint8Array[] | undefined;

/** The `depth` best code estimates among the rows scanned (lower is nearer), their slots, and how many rows were scanned. */
export interface ScanResult {
  rows: Uint32Array;
  estimates: Float64Array;
  slots: Uint32Array;
  scanned: number;
}

export type ScanClusters = (dir: ScanDirectory, metric: VectorMetric, qv: Float32Array, clusters: readonly number[],
  blocks: readonly ScanBlock[], accept: ScanAccept, depth: number) => ScanResult | Promise<ScanResult>;

/**
 * The code scan of the given clusters (their blocks in the same order): a pure function of its
 * inputs, run on this thread or on a worker of the query pool. `qv` is the query as the codes
 * see it (normalized for cosine). Estimates tie by row, so the candidates kept do not depend on
 * how the clusters were split between threads.
 */
export function scanClusters(dir: ScanDirectory, metric: VectorMetric, qv: Float32Array, clusters: readonly number[],
  blocks: readonly ScanBlock[], accept: ScanAccept, depth: number): ScanResult {
  const score = dir.codes === 'u8' ? u8Scorer(dir, qv) : bitsScorer(dir, qv);
  const heap = new CandidateHeap(depth);
  let scanned = 0;
  clusters.forEach((c, b) => {
    const block = blocks[b]!;
    const { rows } = block;
    const dots = score(c, block, typeof accept === 'object' ? accept[b] : accept);
    const norms = block.norms;
    const first = dir.slotStart[c]!;
    for (let j = 0; j < rows.length; j++) {
      const dot = dots[j]!;
      if (Number.isNaN(dot)) continue;
      scanned++;
      const row = rows[j]!;
      if (metric !== 'l2') {
        heap.offer(row, -dot, first + j);
        continue;
      }
      // Lower is nearer; for l2, ‖x‖² − 2 q·x orders rows as ‖q − x‖² does.
      const n = norms === null ? dir.norms[row]! : norms[j]!;
      heap.offer(row, n * n - 2 * dot, first + j);
    }
  });
  return { rows: Uint32Array.from(heap.rows()), estimates: heap.estimates(), slots: Uint32Array.from(heap.payloads()), scanned };
}

/** The blocks of the given clusters, in that order (one ranged read each, made together). */
export type LoadClusters = (clusters: readonly number[]) => Promise<IvfCluster[]>;

/** The float32 vectors of the given rows (the candidates to re-rank, at the given slots), read together. */
export type LoadRows = (rows: readonly number[], slots: readonly number[]) => Promise<RerankVectors>;

/** What a re-rank reads of the candidates' vectors: row-addressed float32 data. */
export type RerankVectors = Pick<VectorAccess, 'data' | 'offset'>;

/** A segment's best code estimates (lower is nearer), the rows a query may re-rank exactly, and their slots (their records). */
export interface Candidates {
  rows: Uint32Array;
  estimates: Float64Array;
  slots: Uint32Array;
}

/** Of a segment's candidates, those a query re-ranks: rows and their slots, in the same order. */
export interface RerankShare {
  rows: number[];
  slots: number[];
}

/** How many code estimates a query re-ranks exactly, for k results. */
export function rerankDepth(k: number): number {
  return Math.max(k * RERANK_FACTOR, RERANK_MIN);
}

/**
 * The k nearest rows (exact distances, nearest first) among the clusters probed: ivfCandidates,
 * then their float32 vectors (loadRows: one more round of ranged reads, or the memory cache)
 * re-ranked exactly, so nothing but the directory, the probed codes and the candidates' vectors
 * is read. A query over several segments re-ranks once across them instead (executor.ts).
 */
export async function searchIvf(dir: IvfDirectory, load: LoadClusters, loadRows: LoadRows, query: Float32Array,
  opts: IvfSearchOptions): Promise<Neighbours> {
  if (opts.k <= 0) return { rows: [], distances: [] };
  const found = await ivfCandidates(dir, load, query, opts);
  const rows = Array.from(found.rows);
  return rerankExact(dir, await loadRows(rows, Array.from(found.slots)), opts.metric, query, opts.k, rows);
}

/**
 * The rerankDepth(k) best code estimates among the clusters probed. Without a filter: the nprobe
 * nearest clusters, fetched together (one round trip). With one, probing goes on, nprobe more
 * clusters a round trip, until as many accepted vectors have been scanned as the unfiltered
 * probe would scan (and at least the re-rank depth), so a filter costs about the same distance
 * computations and keeps recall; there are fewer than k candidates only when fewer than k rows
 * are accepted in the whole segment. Ties by row.
 */
export async function ivfCandidates(dir: IvfDirectory, load: LoadClusters, query: Float32Array,
  opts: IvfSearchOptions): Promise<Candidates> {
  const { metric, k, accept } = opts;
  if (k <= 0 || dir.clusters === 0) return { rows: new Uint32Array(0), estimates: new Float64Array(0), slots: new Uint32Array(0) };
  const qNorm = norm(query);
  const qv = metric === 'cosine' && qNorm > 0 ? query.map((x) => x / qNorm) : query;
  const depth = rerankDepth(k);
  const scan = opts.scan ?? scanClusters;
  const heap = new CandidateHeap(depth);
  const keep = (found: ScanResult) => {
    for (let j = 0; j < found.rows.length; j++) heap.offer(found.rows[j]!, found.estimates[j]!, found.slots[j]!);
  };
  const result = (): Candidates => ({ rows: Uint32Array.from(heap.rows()), estimates: Float64Array.from(heap.estimates()), slots: Uint32Array.from(heap.payloads()) });
  if (opts.probe !== undefined) {
    const batch = opts.probe.filter((c) => c < dir.clusters);
    if (batch.length > 0) keep(await scan(dir, metric, qv, batch, await load(batch), accept, depth));
    return result();
  }
  const order = rankCentroids(dir, metric, qv);
  const nprobe = Math.min(dir.clusters, Math.max(1, opts.nprobe));
  let budget = 0;
  for (const c of order.slice(0, nprobe)) budget += dir.size(c);
  budget = Math.max(budget, depth);

  let scanned = 0;
  for (let i = 0; i < dir.clusters && (i < nprobe || scanned < budget);) {
    const batch = Array.from(order.slice(i, nprobe));
    i += batch.length;
    const blocks = await load(batch);
    const found = await scan(dir, metric, qv, batch, blocks, accept, depth);
    scanned += found.scanned;
    keep(found);
  }
  return result();
}

/**
 * Of several segments' candidates, the `depth` best estimates across all of them (ties by
 * segment, then row): the rows of each segment to re-rank, in the order given. The estimates
 * of all segments measure the same quantity (‖x‖² − 2 q·x for l2, −q·x otherwise), each
 * unbiased under its own rotation, so they compare across segments.
 */
export function bestCandidates(lists: readonly Candidates[], depth: number): RerankShare[] {
  const heap = new CandidateHeap(depth);
  const span = 2 ** 32;
  lists.forEach((list, s) => {
    for (let j = 0; j < list.rows.length; j++) heap.offer(s * span + list.rows[j]!, list.estimates[j]!, list.slots[j]!);
  });
  const out = lists.map((): RerankShare => ({ rows: [], slots: [] }));
  const keys = heap.rows();
  const slots = heap.payloads();
  keys.forEach((key, i) => {
    const share = out[Math.floor(key / span)]!;
    share.rows.push(key % span);
    share.slots.push(slots[i]!);
  });
  return out;
}

/**
 * The k nearest of the candidate rows by exact distance from their float32 vectors (ties by
 * row). Each norm is the directory's, or (ROWS_APART, ivf.rows not read) computed from the
 * record as the builder computed it, so the distances are the same bits either way.
 */
export function rerankExact(dir: IvfDirectory, vectors: RerankVectors, metric: VectorMetric,
  query: Float32Array, k: number, rows: readonly number[]): Neighbours {
  const qNorm = norm(query);
  const dist = new Float64Array(rows.length);
  const norms = dir.rowsLoaded ? dir.norms : null;
  const order = rows.map((row, i) => {
    const off = vectors.offset(row);
    const n = norms === null ? Math.fround(norm(vectors.data, off, dir.dim)) : norms[row]!;
    dist[i] = distance(metric, query, qNorm, vectors.data, off, n);
    return i;
  });
  order.sort((a, b) => dist[a]! - dist[b]! || rows[a]! - rows[b]!);
  const top = order.slice(0, k);
  return { rows: top.map((i) => rows[i]!), distances: top.map((i) => dist[i]!) };
}

/**
 * The `size` lowest (estimate, key) pairs offered, as a bounded max-heap: ties keep the lower
 * key. Keys are rows, or segment × 2^32 + row (bestCandidates), hence float64.
 */
class CandidateHeap {
  private readonly ids: Float64Array;
  private readonly est: Float64Array;
  private readonly pay: Uint32Array;
  private n = 0;

  constructor(private readonly size: number) {
    this.ids = new Float64Array(size);
    this.est = new Float64Array(size);
    this.pay = new Uint32Array(size);
  }

  /** Offers a key with its estimate and a payload carried along (a slot). */
  offer(row: number, e: number, payload: number): void {
    const { ids, est, pay } = this;
    if (this.n < this.size) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >>> 1;
        if (est[p]! > e || (est[p] === e && ids[p]! > row)) break;
        ids[i] = ids[p]!;
        est[i] = est[p]!;
        pay[i] = pay[p]!;
        i = p;
      }
      ids[i] = row;
      est[i] = e;
      pay[i] = payload;
      return;
    }
    if (e > est[0]! || (e === est[0] && row >= ids[0]!)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const m = r < this.n && (est[r]! > est[l]! || (est[r] === est[l] && ids[r]! > ids[l]!)) ? r : l;
      if (est[m]! < e || (est[m] === e && ids[m]! < row)) break;
      ids[i] = ids[m]!;
      est[i] = est[m]!;
      pay[i] = pay[m]!;
      i = m;
    }
    ids[i] = row;
    est[i] = e;
    pay[i] = payload;
  }

  rows(): Float64Array {
    return this.ids.subarray(0, this.n);
  }

  payloads(): Uint32Array {
    return this.pay.subarray(0, this.n);
  }

  estimates(): Float64Array {
    return this.est.subarray(0, this.n);
  }
}


/** Estimated q·x of each row of a cluster; NaN for rows `accept` (a test, or the block's mask) refuses. */
type Scorer = (c: number, block: ScanBlock, accept: ((row: number) => boolean) | Uint8Array | undefined) => Float64Array;

function refused(accept: ((row: number) => boolean) | Uint8Array | undefined, rows: Uint32Array, j: number): boolean {
  if (accept === undefined) return false;
  return typeof accept === 'function' ? !accept(rows[j]!) : accept[j] === 0;
}

/** u8 codes: Σ q_d (min_d + step_d c_d) = base + Σ w_d c_d. */
function u8Scorer(dir: ScanDirectory, qv: Float32Array): Scorer {
  const dim = dir.dim;
  const w = new Float64Array(dim);
  let base = 0;
  for (let d = 0; d < dim; d++) {
    w[d] = qv[d]! * dir.step[d]!;
    base += qv[d]! * dir.min[d]!;
  }
  return (_c, { rows, codes }, accept) => {
    const out = new Float64Array(rows.length);
    for (let j = 0; j < rows.length; j++) {
      if (refused(accept, rows, j)) {
        out[j] = NaN;
        continue;
      }
      let dot = base;
      const off = j * dim;
      for (let d = 0; d < dim; d++) dot += w[d]! * codes[off + d]!;
      out[j] = dot;
    }
    return out;
  };
}

const rotations = new Map<string, ReturnType<typeof rotation>>();
function rotationOf(dir: ScanDirectory): ReturnType<typeof rotation> {
  const key = `${dir.dim}/${dir.seed}`;
  let r = rotations.get(key);
  if (r === undefined) rotations.set(key, (r = rotation(dir.dim, dir.seed)));
  return r;
}

/**
 * bits and rabitq codes: q·x = q·c + q·r, with Σ_d sign(r_d) q_d = 2 Σ_{bit set} q_d − Σ_d q_d
 * read from one 256-entry table per code byte. bits: q·r ≈ factor × Σ_d sign(r_d) q_d. rabitq:
 * q·r = (q − c)·r + c·r ≈ factor × Σ_d sign(r_d) q_d + offset, the offset (c·r less the factor
 * times the signs' sum over c) stored per row after the factors (ivf.ts).
 */
function bitsScorer(dir: ScanDirectory, qv: Float32Array): Scorer {
  const { dim, codeBytes, centroids } = dir;
  const p = rotatedDim(dim);
  const rq = new Float64Array(p);
  rotationOf(dir)(qv, 0, rq);
  const table = new Float64Array(codeBytes * 256);
  let total = 0;
  for (let d = 0; d < p; d++) total += rq[d]!;
  for (let b = 0; b < codeBytes; b++) {
    for (let v = 1; v < 256; v++) {
      const low = v & (v - 1); // v without its lowest bit, already filled
      const bit = 31 - Math.clz32(v & -v);
      const d = b * 8 + bit;
      table[b * 256 + v] = table[b * 256 + low]! + rq[d]!;
    }
  }
  const centred = dir.codes === 'rabitq';
  return (c, { rows, codes, factors }, accept) => {
    const n = rows.length;
    let qc = 0;
    for (let d = 0; d < dim; d++) qc += qv[d]! * centroids[c * dim + d]!;
    const out = new Float64Array(rows.length);
    for (let j = 0; j < rows.length; j++) {
      if (refused(accept, rows, j)) {
        out[j] = NaN;
        continue;
      }
      let sum = 0;
      const off = j * codeBytes;
      for (let b = 0; b < codeBytes; b++) sum += table[(b << 8) | codes[off + b]!]!;
      out[j] = qc + factors[j]! * (2 * sum - total) + (centred ? factors[n + j]! : 0);
    }
    return out;
  };
}
