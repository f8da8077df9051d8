// Runs inside a thread of the query pool (scan-pool.ts): one IVF code scan per task, over blocks
// and a directory held in SharedArrayBuffers, so nothing but the query and the candidates is
// copied between threads.
import type { VectorMetric } from '../schema/types.ts';
import { scanClusters, type ScanBlock, type ScanDirectory, type ScanResult } from './ivf-search.ts';

export interface ScanTask {
  dir: ScanDirectory;
  metric: VectorMetric;
  qv: Float32Array;
  clusters: number[];
  blocks: ScanBlock[];
  /** One keep-mask per block, when a filter or deleted rows apply. */
  masks?: Uint8Array[];
  depth: number;
}

export default function scan(task: ScanTask): ScanResult {
  const { rows, estimates, scanned } = scanClusters(task.dir, task.metric, task.qv, task.clusters, task.blocks, task.masks, task.depth);
  // The heap's arrays are views of buffers sized `depth`: copies of the filled part go back.
  return { rows: rows.slice(), estimates: estimates.slice(), scanned };
}
