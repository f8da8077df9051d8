// BuildPool: every segment build of the node (flush and merge, all namespaces) runs on one
// bounded pool of worker threads, so that an HNSW build (seconds of blocking native calls) never
// stalls the event loop, and a thousand namespaces flushing at once start `threads` threads, not
// a thousand. piscina runs the threads: it replaces one that dies, and lets idle ones exit.
//
// Admission is ours, in front of piscina: a build waits in a FIFO until a thread is free, and only
// then is its input prepared (a flush snapshots its tail, a merge reads its segments), so a
// queued build holds no copy of its rows. Callers submit at most one build per namespace at a time
// (flush and merge run under Namespace.exclusive), so FIFO is round-robin across namespaces.
//
// What blocks the caller's loop is only the hand-over, so it is cut into slices: rows go over the
// task's MessagePort in chunks (ids, attributes, and a copy of their vectors), with a macrotask
// turn between chunks. piscina's own task message is one structured clone, which is why the rows
// do not travel in it. Measured on 50k SciFact abstracts × 100-d: one 20 MB vector copy or clone
// blocks 12–24 ms, a 2,000-row chunk of attributes 16 ms, a 500-row chunk ~1 ms. The chunk size
// adapts to keep each post near TARGET_POST_MS whatever the size of the attributes.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import { checkInput, type BuiltSegment, type SegmentInput } from './builder.ts';
import type { SegmentMeta } from './format.ts';
import type { HnswParams } from './hnsw.ts';

const TARGET_POST_MS = 2;
const FIRST_CHUNK_ROWS = 256;
const MAX_CHUNK_ROWS = 16_384;
// Compiled (dist/, npm run build) this module is .js and so is the worker; from the sources the
// worker's entry is the .mjs that loads build-worker.ts through tsx.
const WORKER_FILE = new URL(import.meta.url.endsWith('.js') ? './build-worker.js' : './build-worker.mjs', import.meta.url);
/** An idle thread exits after this long: an idle node holds no build threads. */
const IDLE_TIMEOUT_MS = 30_000;

export type ToWorker =
  | {
    type: 'start';
    schema: NamespaceSchema;
    rows: number;
    /** All vectors at once when they were transferred; else they come with the rows. */
    vectors?: Float32Array;
    hasVector: Uint8Array;
    hnsw: HnswParams;
    tmpDir?: string;
    ivfFrom?: number;
  }
  | { type: 'rows'; ids: DocId[]; attributes: Record<string, AttributeValue>[]; vectors?: Float32Array }
  | { type: 'end' };

export type FromWorker = { type: 'done'; bytes: ArrayBuffer; meta: SegmentMeta };

export interface BuildOptions {
  /**
   * Transfer input.vectors to the worker instead of copying it: saves the copy, but detaches its
   * ArrayBuffer (every view over it, in the caller, becomes empty). Only an array that spans its
   * whole buffer (exactly rows × dim floats) is transferred; others are copied anyway.
   */
  transfer?: boolean;
  /** A piece of a tail that fell behind ingest: it may also run on the pool's backlog threads. */
  backlog?: boolean;
}

export interface BuildPoolOptions {
  /** Threads at most; see buildThreads() for the configured value 0 (auto). */
  threads: number;
  /**
   * Threads at most for builds marked `backlog` (≥ threads; threads unless given): a node whose
   * indexing fell behind ingest builds on every core. See backlogThreads().
   */
  backlogThreads?: number;
  idleTimeoutMs?: number;
  /** Niceness each build thread sets on itself (indexing.build_nice); 0 or absent: unchanged. */
  nice?: number;
  /** The worker module (tests substitute one that crashes). */
  workerFile?: URL;
}

export interface BuildPoolStats {
  /** Worker threads alive now. */
  threads: number;
  max_threads: number;
  /** Builds running on a thread. */
  active: number;
  /** Builds waiting for a thread. */
  queued: number;
  completed: number;
  failed: number;
}

/** The pool size for a configured `indexing.build_threads`: 0 = one less than the cores, at least 1. */
export function buildThreads(configured: number, cores: number = availableParallelism()): number {
  return configured > 0 ? configured : Math.max(1, cores - 1);
}

/** The backlog pool size for a configured `indexing.build_threads`: 0 = every core; else the same cap. */
export function backlogThreads(configured: number, cores: number = availableParallelism()): number {
  return configured > 0 ? configured : Math.max(1, cores);
}

/** What flush and merge use of a build pool (a node's warm-up builds in its own thread instead: warm-up.ts). */
export type SegmentBuilds = Pick<BuildPool, 'build' | 'backlogThreads'>;

export class BuildPool {
  private readonly piscina: Piscina;
  private readonly waiting: Array<{ backlog: boolean; admit: () => void }> = [];
  /** Threads at most for backlog builds. */
  readonly backlogThreads: number;
  private active = 0;
  private completed = 0;
  private failed = 0;
  private closed = false;

  constructor(private readonly opts: BuildPoolOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`build pool threads must be >= 1, got ${opts.threads}`);
    this.backlogThreads = Math.max(opts.threads, opts.backlogThreads ?? opts.threads);
    this.piscina = new Piscina({
      filename: (opts.workerFile ?? WORKER_FILE).href,
      minThreads: 0,
      maxThreads: this.backlogThreads,
      idleTimeout: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      // A build's messages arrive on its own port, which the worker must be free to listen on;
      // piscina's Atomics.wait between tasks buys nothing for tasks that last seconds.
      atomics: 'disabled',
      workerData: { nice: opts.nice ?? 0 },
    });
  }

  /**
   * Waits for a free thread, then builds what prepare() returns (nothing when it returns null).
   * prepare runs only once the thread is free, so its snapshot is taken as late as possible (a
   * merge's may read its inputs then, asynchronously).
   */
  async build(prepare: () => SegmentInput | null | Promise<SegmentInput | null>, opts: BuildOptions = {}): Promise<BuiltSegment | null> {
    if (this.closed) throw new Error('build pool is closed');
    await this.admit(opts.backlog === true);
    try {
      const input = await prepare();
      if (input === null) return null;
      const built = await this.run(input, opts);
      this.completed++;
      return built;
    } catch (e) {
      this.failed++;
      throw e;
    } finally {
      this.release();
    }
  }

  stats(): BuildPoolStats {
    return {
      threads: this.piscina.threads.length, max_threads: this.opts.threads,
      active: this.active, queued: this.waiting.length, completed: this.completed, failed: this.failed,
    };
  }

  /** Waits for running builds and stops the threads; queued and later builds fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.piscina.close();
  }

  private limit(backlog: boolean): number {
    return backlog ? this.backlogThreads : this.opts.threads;
  }

  /**
   * FIFO, except that a backlog build may pass waiting ordinary builds onto a backlog thread:
   * they wait only while `threads` are busy, and that thread is one they could not use.
   */
  private admit(backlog: boolean): Promise<void> {
    if (this.active < this.limit(backlog) && (this.waiting.length === 0 || backlog)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((admit) => this.waiting.push({ backlog, admit }));
  }

  /** Frees the slot and admits the oldest waiting builds that now fit. */
  private release(): void {
    this.active--;
    while (this.waiting.length > 0 && this.active < this.limit(this.waiting[0]!.backlog)) {
      this.active++;
      this.waiting.shift()!.admit();
    }
  }

  private async run(input: SegmentInput, opts: BuildOptions): Promise<BuiltSegment> {
    checkInput(input);
    const rows = input.ids.length;
    const dim = input.schema.vector_dim;
    const vectors = input.vectors.subarray(0, rows * dim);
    const transferVectors = opts.transfer === true && spansBuffer(vectors);

    const { port1: port, port2 } = new MessageChannel();
    let failed = false;
    const reply = new Promise<BuiltSegment>((resolve) => {
      port.once('message', (msg: FromWorker) => resolve({ bytes: Buffer.from(msg.bytes), meta: msg.meta }));
    });
    // The task settles after the reply (or instead of it, when the build or the thread fails).
    const task = this.piscina.run({ port: port2 }, { transferList: [port2] }).catch((e: unknown) => {
      failed = true;
      throw e;
    });
    task.catch(() => undefined); // awaited below; a failure while posting must not go unhandled
    try {
      const post = (msg: ToWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
      const hasVector = input.hasVector.slice(0, rows);
      post({
        type: 'start',
        schema: input.schema,
        rows,
        hasVector,
        hnsw: input.hnsw,
        ...(transferVectors ? { vectors } : {}),
        ...(input.tmpDir !== undefined ? { tmpDir: input.tmpDir } : {}),
        ...(input.ivfFrom !== undefined ? { ivfFrom: input.ivfFrom } : {}),
      }, transferVectors ? [hasVector.buffer, vectors.buffer as ArrayBuffer] : [hasVector.buffer]);
      let chunk = FIRST_CHUNK_ROWS;
      for (let from = 0, to = 0; from < rows && !failed; from = to) {
        if (from > 0) await nextTurn();
        const started = performance.now();
        to = Math.min(rows, from + chunk);
        const part = transferVectors ? undefined : vectors.slice(from * dim, to * dim);
        post({
          type: 'rows',
          ids: input.ids.slice(from, to),
          attributes: input.attributes.slice(from, to),
          ...(part !== undefined ? { vectors: part } : {}),
        }, part !== undefined ? [part.buffer] : []);
        const took = performance.now() - started;
        if (took < TARGET_POST_MS / 2) chunk = Math.min(MAX_CHUNK_ROWS, chunk * 2);
        else if (took > TARGET_POST_MS * 2) chunk = Math.max(16, chunk >>> 1);
      }
      post({ type: 'end' });
      const [built] = await Promise.all([Promise.race([reply, task.then(() => reply)]), task]);
      return built;
    } finally {
      port.close();
    }
  }
}

function spansBuffer(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
}
