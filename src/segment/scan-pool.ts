// ScanPool: the IVF code scan of a query (ivf-search.ts scanClusters) on worker threads, so that
// queries use every core. One query's probed clusters are split across the threads (a lower
// latency for one client too) and their candidates merged by the caller, which re-ranks them on
// the main thread as before. Blocks and directories live in SharedArrayBuffers (sharedCopy, at
// the one copy a read makes anyway), so a task carries views, not bytes.
//
// Measured before choosing (bench/query-cores.ts, docs/benchmarks.md "query-cores"): with the
// scan on the main thread, a GloVe-50k query's server CPU was ≈ 46 % code scan, 8–13 % re-rank,
// 2–6 % centroid ranking, the rest HTTP, JSON and result building; throughput did not grow with
// clients (0.9–1.07× at 8 vs 1). Several query processes over the shared disk cache were the
// other way: each would hold its own memory tier (the node's memory bound × processes) and none
// the owner's memtable, so every strong query would still be forwarded to the owner process.
//
// A failed or timed-out task (a worker that died or hangs) is scanned again on this thread: the
// result is the same, and a query never waits on a lost thread longer than the timeout.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { VectorMetric } from '../schema/types.ts';
import { scanClusters, type ScanAccept, type ScanBlock, type ScanDirectory, type ScanResult } from './ivf-search.ts';
import { nearestAcross, type Probes, type RankDirectory } from './ivf-centroids.ts';
import { shortlistsReady } from './ivf-shortlist.ts';
import { blocksOf, LAYOUT_FIELDS, type PingTask, type RankTask, type ScanTask } from './scan-worker.ts';

const WORKER_FILE = new URL(import.meta.url.endsWith('.js') ? './scan-worker.js' : './scan-worker.mjs', import.meta.url);
/**
 * Rows below which a scan stays on the calling thread, and the fewest rows a task gets.
 * Measured here (2 cores, load average ≈ 16–24 from other work; main-thread CPU from /proc, 500
 * scans each): a task costs the main thread ≈ 0.07 ms (piscina's post, the clone of the task,
 * the reply), a 256-row cluster's bits scan ≈ 0.02–0.03 ms. 64 blocks × 256 rows (a GloVe
 * query's probes) took 1.40 ms of main-thread CPU scanned there, 0.16 ms split in 2 tasks; 16
 * blocks 0.44 vs 0.16 ms; 2 one-row blocks 0.04 vs 0.14 ms. So a task gets at least 8 clusters'
 * worth. Three views per block instead of one buffer and offsets cost 4× more (6.5 vs 1.6 ms a
 * 64-block scan, wall), and an AbortSignal.timeout() per task another ≈ 0.05 ms.
 */
const MIN_TASK_ROWS = 2048;
/**
 * Centroid components (clusters × dim, all segments') from which a query's ranking goes to a worker.
 * A 1M-row segment's 1,322 × 128-d centroids took 0.42 ms of the main thread to rank for nprobe
 * 8 (pruned, rankCentroids), against ≈ 0.07 ms to post a task and take its reply; below about
 * 64k components the ranking costs less than the task.
 */
const MIN_RANK_COMPONENTS = 65_536;
/** Event-loop utilization over the last window from which ranking goes to the workers (ScanPool.mainBusy). */
const BUSY_SHARE = 0.5;
const BUSY_WINDOW_MS = 100;
const DEFAULT_TIMEOUT_MS = 10_000;
/** The norms a task carries for a segment whose blocks hold their own (ivf.ts, ROWS_APART). */
const NO_NORMS = new Float32Array(0);

export interface ScanPoolOptions {
  /** Worker threads (≥ 1); see queryThreads() for the configured value. */
  threads: number;
  /** A task not done by then is scanned again on the calling thread. */
  timeoutMs?: number;
  /** The worker module (tests substitute one that crashes or hangs). */
  workerFile?: URL;
  /** Rows below which a scan is not split (tests lower it to exercise the pool on small data). */
  minTaskRows?: number;
  /** Centroid components below which ranking stays on the calling thread (tests lower it likewise). */
  minRankComponents?: number;
  /** Rank on the workers even when this thread is idle (tests; by default only when it is busy). */
  rankWhenIdle?: boolean;
}

export interface ScanPoolStats {
  /** Worker threads alive now. */
  threads: number;
  max_threads: number;
  /** Scan tasks run on a worker. */
  tasks: number;
  /** Tasks that failed or timed out on a worker and were scanned on the main thread instead. */
  fallbacks: number;
}

/** Worker threads for a configured `query.threads`: 0 = one per core; 1 = none (the main thread scans). */
export function queryThreads(configured: number, cores: number = availableParallelism()): number {
  const n = configured === 0 ? cores : configured;
  return n <= 1 ? 0 : n;
}

/** A copy of `bytes` in a SharedArrayBuffer, so that views of it pass to workers without a copy. */
export function sharedCopy(bytes: Uint8Array): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}

function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

export class ScanPool {
  /** Started by the first task: a node that never scans on the pool (no IVF query) starts no thread. */
  private piscina: Piscina | null = null;
  private readonly timeoutMs: number;
  private readonly minTaskRows: number;
  private readonly minRankComponents: number;
  private busy = false;
  /** Whether the threads have loaded (a ping came back). */
  private ready = false;
  private warming: Promise<void> | null = null;
  private busySince = -Infinity;
  private busyMark = performance.eventLoopUtilization();
  private tasks = 0;
  private fallbacks = 0;
  private closed = false;
  /** Tasks on a worker now, with their start time, for abortOverdue. */
  private readonly inflight = new Map<AbortController, number>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ScanPoolOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`query pool threads must be >= 1, got ${opts.threads}`);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.minTaskRows = opts.minTaskRows ?? MIN_TASK_ROWS;
    this.minRankComponents = opts.minRankComponents ?? MIN_RANK_COMPONENTS;
  }

  /**
   * The threads, all started by the first task and kept, so a server that serves no IVF query
   * (a CLI run, an idle node) holds none. No query waits for them to load: tasks run on this
   * thread until a first ping has come back (`ready`). A fresh server's first query on a 1M
   * namespace on the S3 test server (through tsx, whose threads compile their modules) took
   * 790–1,050 ms when it waited for them, 687–690 ms without (2 runs each).
   */
  private get workers(): Piscina | null {
    if (this.piscina === null) {
      const pool = new Piscina({ filename: (this.opts.workerFile ?? WORKER_FILE).href, minThreads: this.opts.threads, maxThreads: this.opts.threads, idleTimeout: Infinity });
      this.piscina = pool;
      // A thread that fails or hangs loading leaves the pool ready all the same: the tasks then
      // fail or time out one by one and are redone here, counted in `fallbacks`.
      const abort = this.watch();
      this.warming = pool.run({ kind: 'ping' } satisfies PingTask, { signal: abort.signal }).then(() => {}, () => {}).finally(() => {
        this.inflight.delete(abort);
        this.ready = true;
      });
    }
    return this.ready ? this.piscina : null;
  }

  /** Starts the threads if they are not yet, and settles once tasks go to them. */
  async warm(): Promise<void> {
    void this.workers;
    await this.warming;
  }

  /** scanClusters, split across the workers when the blocks are shared and large enough. */
  readonly scan = async (dir: ScanDirectory, metric: VectorMetric, qv: Float32Array, clusters: readonly number[],
    blocks: readonly ScanBlock[], accept: ScanAccept, depth: number): Promise<ScanResult> => {
    let total = 0;
    for (const b of blocks) total += b.rows.length;
    if (this.closed || total < 2 * this.minTaskRows || !this.sharable(dir, blocks)) {
      return scanClusters(dir, metric, qv, clusters, blocks, accept, depth);
    }
    const masks = typeof accept === 'function' ? blocks.map(({ rows }) => maskOf(rows, accept)) : accept;
    const parts = split(blocks, Math.min(this.opts.threads, Math.floor(total / this.minTaskRows)));
    const target: ScanDirectory = {
      dim: dir.dim, codes: dir.codes, codeBytes: dir.codeBytes, seed: dir.seed, centroids: dir.centroids, min: dir.min, step: dir.step,
      slotStart: dir.slotStart, rowsApart: dir.rowsApart, norms: dir.rowsApart ? NO_NORMS : dir.norms,
    };
    const results = await Promise.all(parts.map(([from, to]) => {
      const part = blocks.slice(from, to);
      const layout = new Float64Array(part.length * LAYOUT_FIELDS);
      part.forEach(({ rows, codes, factors, norms }, b) => {
        layout.set([rows.byteOffset, rows.length, codes.byteOffset, codes.length, factors.byteOffset, factors.length,
          norms === null ? -1 : norms.byteOffset, norms?.length ?? 0], b * LAYOUT_FIELDS);
      });
      const task: ScanTask = {
        dir: target, metric, qv, depth, layout,
        clusters: clusters.slice(from, to),
        buffers: part.map((b) => b.rows.buffer as SharedArrayBuffer),
        ...(masks !== undefined ? { masks: masks.slice(from, to) } : {}),
      };
      return this.run(task, () => scanClusters(task.dir, task.metric, task.qv, task.clusters, blocksOf(task), task.masks, task.depth));
    }));
    return merge(results);
  };

  /**
   * nearestAcross (the n clusters nearest the query over a namespace's IVF segments), on a
   * worker when the centroids are shared and many enough to outweigh the task: the main thread
   * keeps HTTP, the scans' merge and the re-rank, so concurrent queries use every core.
   */
  readonly rank = (dirs: readonly RankDirectory[], metric: VectorMetric, qv: Float32Array, n: number): Probes | Promise<Probes> => {
    let components = 0;
    for (const dir of dirs) components += dir.clusters * dir.dim;
    // Built shortlists rank here in a fraction of a worker's JavaScript ranking (ivf-shortlist.ts),
    // busy or not: the worker pays off for what stays in JavaScript. Asking starts their builds.
    if (this.closed || components < this.minRankComponents || shortlistsReady(dirs, metric) || !this.mainBusy()
      || !dirs.every((d) => isShared(d.centroids))) {
      return nearestAcross(dirs, metric, qv, n);
    }
    const task: RankTask = { kind: 'rank', dirs: dirs.map((d) => ({ clusters: d.clusters, dim: d.dim, centroids: d.centroids })), metric, qv, n };
    return this.run(task, () => nearestAcross(dirs, metric, qv, n));
  };

  /**
   * Whether this thread was busy for at least BUSY_SHARE of the last BUSY_WINDOW_MS (event-loop
   * utilization): a task pays off only then. One query alone waits for its ranking either way,
   * and here it skips the task's post and reply: in process (1M rows in 4 segments) p50 2.45 ms
   * ranked here vs 3.07 ms on a worker, while 8 concurrent queries made 334 QPS ranked here and
   * 463 on the workers.
   */
  private mainBusy(): boolean {
    if (this.opts.rankWhenIdle === true) return true;
    const now = performance.now();
    if (now - this.busySince >= BUSY_WINDOW_MS) {
      const elu = performance.eventLoopUtilization(this.busyMark);
      this.busy = elu.utilization >= BUSY_SHARE;
      this.busyMark = performance.eventLoopUtilization();
      this.busySince = now;
    }
    return this.busy;
  }

  stats(): ScanPoolStats {
    return { threads: this.piscina?.threads.length ?? 0, max_threads: this.opts.threads, tasks: this.tasks, fallbacks: this.fallbacks };
  }

  /** Stops the threads; scans from now on run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    await this.piscina?.destroy();
  }

  /** One task on a worker; `fallback` computes the same result here when the worker fails or times out. */
  private async run<T>(task: ScanTask | RankTask, fallback: () => T): Promise<T> {
    const workers = this.workers;
    if (workers === null) return fallback();
    this.tasks++;
    const abort = this.watch();
    try {
      return await (workers.run(task, { signal: abort.signal }) as Promise<T>);
    } catch {
      this.fallbacks++;
      return fallback();
    } finally {
      this.inflight.delete(abort);
    }
  }

  /** An abort for one task, fired by abortOverdue past the timeout; delete it from `inflight` once settled. */
  private watch(): AbortController {
    const abort = new AbortController();
    this.inflight.set(abort, performance.now());
    this.watchdog ??= setInterval(() => this.abortOverdue(), Math.max(10, this.timeoutMs / 4)).unref();
    return abort;
  }

  /**
   * Aborts tasks running longer than the timeout (piscina then ends their thread). One timer for
   * the pool: AbortSignal.timeout() per task cost the main thread ≈ 0.05 ms a task here.
   */
  private abortOverdue(): void {
    const now = performance.now();
    for (const [abort, started] of this.inflight) if (now - started > this.timeoutMs) abort.abort();
  }

  /** Only views of SharedArrayBuffers go to a worker: anything else would be copied whole. */
  private sharable(dir: ScanDirectory, blocks: readonly ScanBlock[]): boolean {
    return (dir.rowsApart || isShared(dir.norms)) && isShared(dir.centroids) && isShared(dir.slotStart)
      && blocks.every((b) => isShared(b.rows) && b.codes.buffer === b.rows.buffer && b.factors.buffer === b.rows.buffer
        && (b.norms === null || b.norms.buffer === b.rows.buffer));
  }
}

function maskOf(rows: Uint32Array, accept: (row: number) => boolean): Uint8Array {
  const mask = new Uint8Array(rows.length);
  for (let j = 0; j < rows.length; j++) mask[j] = accept(rows[j]!) ? 1 : 0;
  return mask;
}

/** [from, to) ranges of blocks, `n` of them, contiguous and about equal in rows. */
function split(blocks: readonly ScanBlock[], n: number): Array<[number, number]> {
  let total = 0;
  for (const b of blocks) total += b.rows.length;
  const out: Array<[number, number]> = [];
  let from = 0;
  let sum = 0;
  for (let i = 0; i < blocks.length; i++) {
    sum += blocks[i]!.rows.length;
    if (out.length < n - 1 && sum >= ((out.length + 1) * total) / n) {
      out.push([from, i + 1]);
      from = i + 1;
    }
  }
  if (from < blocks.length) out.push([from, blocks.length]);
  return out;
}

/** The parts' candidates together; the caller's heap keeps the best `depth` of them. */
function merge(parts: readonly ScanResult[]): ScanResult {
  let n = 0;
  let scanned = 0;
  for (const p of parts) {
    n += p.rows.length;
    scanned += p.scanned;
  }
  const rows = new Uint32Array(n);
  const estimates = new Float64Array(n);
  const slots = new Uint32Array(n);
  let at = 0;
  for (const p of parts) {
    rows.set(p.rows, at);
    estimates.set(p.estimates, at);
    slots.set(p.slots, at);
    at += p.rows.length;
  }
  return { rows, estimates, slots, scanned };
}
