// Runs inside a thread of the query pool (scan-pool.ts): one IVF code scan or one centroid ranking
// per task, over blocks and a directory held in SharedArrayBuffers, so nothing but the query and
// the candidates (or the clusters ranked) is copied between threads.
import type { VectorMetric } from '../schema/types.ts';
import { scanClusters, type ScanBlock, type ScanDirectory, type ScanResult } from './ivf-search.ts';
import { nearestAcross, type Probes, type RankDirectory } from './ivf-centroids.ts';

export interface ScanTask {
  kind?: 'scan';
  dir: ScanDirectory;
  metric: VectorMetric;
  qv: Float32Array;
  clusters: number[];
  /**
   * The blocks as their buffers and, per block, the byte offset and length of its rows, codes,
   * factors and norms views: one shared buffer a block instead of three views is what the task's
   * structured clone spends its time on (scan-pool.ts, MIN_TASK_ROWS).
   */
  buffers: SharedArrayBuffer[];
  layout: Float64Array;
  /** One keep-mask per block, when a filter or deleted rows apply. */
  masks?: Uint8Array[];
  depth: number;
}

/** The n clusters nearest a query over several segments (centroids in SharedArrayBuffers). */
export interface RankTask {
  kind: 'rank';
  dirs: RankDirectory[];
  metric: VectorMetric;
  qv: Float32Array;
  n: number;
}

/** Answered once the thread has loaded this module: the pool sends tasks only after it (scan-pool.ts). */
export interface PingTask {
  kind: 'ping';
}

/** Per block: rows offset, length, codes offset, length, factors offset, length, norms offset (-1: none), length. */
export const LAYOUT_FIELDS = 8;

/** The blocks of a task, as views again. */
export function blocksOf(task: Pick<ScanTask, 'buffers' | 'layout'>): ScanBlock[] {
  const { buffers, layout: l } = task;
  return buffers.map((buf, b) => {
    const at = b * LAYOUT_FIELDS;
    return {
      rows: new Uint32Array(buf, l[at]!, l[at + 1]!),
      codes: new Uint8Array(buf, l[at + 2]!, l[at + 3]!),
      factors: new Float32Array(buf, l[at + 4]!, l[at + 5]!),
      norms: l[at + 6]! < 0 ? null : new Float32Array(buf, l[at + 6]!, l[at + 7]!),
    };
  });
}

export default function run(task: ScanTask | RankTask | PingTask): ScanResult | Probes | null {
  if (task.kind === 'ping') return null;
  return task.kind === 'rank' ? nearestAcross(task.dirs, task.metric, task.qv, task.n) : scan(task);
}

function scan(task: ScanTask): ScanResult {
  const { rows, estimates, slots, scanned } = scanClusters(task.dir, task.metric, task.qv, task.clusters, blocksOf(task), task.masks, task.depth);
  // The heap's arrays are views of buffers sized `depth`: copies of the filled part go back.
  return { rows: rows.slice(), estimates: estimates.slice(), slots: slots.slice(), scanned };
}
