// buildSegmentInWorker: buildSegment on a worker thread, so that an HNSW build (seconds of
// blocking native calls) never stalls the event loop. One worker per build: builds are rare and
// long, and a fresh thread returns its memory when it exits.
//
// What blocks the caller's loop is only the hand-over, so it is cut into slices: rows go over in
// chunks (ids, attributes, and a copy of their vectors), with a macrotask turn between chunks.
// Measured on 50k SciFact abstracts × 100-d: one 20 MB vector copy or clone blocks 12–24 ms, a
// 2,000-row chunk of attributes 16 ms, a 500-row chunk ~1 ms. The chunk size adapts to keep
// each post near TARGET_POST_MS whatever the size of the attributes.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import { checkInput, type BuiltSegment, type SegmentInput } from './builder.ts';
import type { SegmentMeta } from './format.ts';
import type { HnswParams } from './hnsw.ts';

const TARGET_POST_MS = 2;
const FIRST_CHUNK_ROWS = 256;
const MAX_CHUNK_ROWS = 16_384;
const BOOTSTRAP = new URL('./build-worker.mjs', import.meta.url);
const WORKER_MODULE = new URL('./build-worker.ts', import.meta.url).href;

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
  }
  | { type: 'rows'; ids: DocId[]; attributes: Record<string, AttributeValue>[]; vectors?: Float32Array }
  | { type: 'end' };

export type FromWorker =
  | { type: 'done'; bytes: ArrayBuffer; meta: SegmentMeta }
  | { type: 'error'; name: string; message: string; stack: string };

export interface WorkerBuildOptions {
  /**
   * Transfer input.vectors to the worker instead of copying it: saves the copy, but detaches its
   * ArrayBuffer (every view over it, in the caller, becomes empty). Only an array that spans its
   * whole buffer (exactly rows × dim floats) is transferred; others are copied anyway.
   */
  transfer?: boolean;
}

export async function buildSegmentInWorker(input: SegmentInput, opts: WorkerBuildOptions = {}): Promise<BuiltSegment> {
  checkInput(input);
  const rows = input.ids.length;
  const dim = input.schema.vector_dim;
  const vectors = input.vectors.subarray(0, rows * dim);
  const transferVectors = opts.transfer === true && spansBuffer(vectors);

  const worker = new Worker(BOOTSTRAP, { workerData: { module: WORKER_MODULE } });
  const result = new Promise<BuiltSegment>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (msg: FromWorker) => settle(() => {
      if (msg.type === 'done') resolve({ bytes: Buffer.from(msg.bytes), meta: msg.meta });
      else {
        const err = new Error(msg.message);
        err.name = msg.name;
        err.stack = msg.stack;
        reject(err);
      }
    }));
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`segment build worker exited with code ${code}`))));
  });
  // The worker can fail while chunks are still being posted; the caller sees it through `result`.
  result.catch(() => undefined);

  try {
    const post = (msg: ToWorker, transfer: ArrayBuffer[] = []) => worker.postMessage(msg, transfer);
    const hasVector = input.hasVector.slice(0, rows);
    post({
      type: 'start',
      schema: input.schema,
      rows,
      hasVector,
      hnsw: input.hnsw,
      ...(transferVectors ? { vectors } : {}),
      ...(input.tmpDir !== undefined ? { tmpDir: input.tmpDir } : {}),
    }, transferVectors ? [hasVector.buffer, vectors.buffer as ArrayBuffer] : [hasVector.buffer]);
    let chunk = FIRST_CHUNK_ROWS;
    for (let from = 0, to = 0; from < rows; from = to) {
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
  } catch (e) {
    void worker.terminate();
    throw e;
  }
  return result;
}

function spansBuffer(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
}
