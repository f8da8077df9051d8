// buildSegmentInWorker: buildSegment on a worker thread, so that an HNSW build (seconds of
// blocking native calls) never stalls the event loop. One worker per build: builds are rare and
// long, and a fresh thread returns its memory when it exits.
//
// What blocks the caller's loop is only the hand-over: vectors are copied once into a buffer of
// their own and transferred (or transferred directly with { transfer: true }), and ids and
// attributes are posted in chunks of CHUNK_ROWS with a macrotask turn between chunks, since a
// structured clone of 50k attribute objects in one message blocks for tens of milliseconds.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import { checkInput, type BuiltSegment, type SegmentInput } from './builder.ts';
import type { SegmentMeta } from './format.ts';
import type { HnswParams } from './hnsw.ts';

const CHUNK_ROWS = 2_000;
const BOOTSTRAP = new URL('./build-worker.mjs', import.meta.url);
const WORKER_MODULE = new URL('./build-worker.ts', import.meta.url).href;

export type ToWorker =
  | {
    type: 'start';
    schema: NamespaceSchema;
    vectors: Float32Array;
    hasVector: Uint8Array;
    hnsw: HnswParams;
    tmpDir?: string;
  }
  | { type: 'rows'; ids: DocId[]; attributes: Record<string, AttributeValue>[] }
  | { type: 'end' };

export type FromWorker =
  | { type: 'done'; bytes: ArrayBuffer; meta: SegmentMeta }
  | { type: 'error'; name: string; message: string; stack: string };

export interface WorkerBuildOptions {
  /**
   * Transfer input.vectors and input.hasVector to the worker instead of copying them: saves one
   * copy, but detaches their ArrayBuffers (every view over them, in the caller, becomes empty).
   * Only arrays that span their whole buffer are transferred; others are copied anyway.
   */
  transfer?: boolean;
}

export async function buildSegmentInWorker(input: SegmentInput, opts: WorkerBuildOptions = {}): Promise<BuiltSegment> {
  checkInput(input);
  const rows = input.ids.length;
  const dim = input.schema.vector_dim;
  const vectors = own(input.vectors.subarray(0, rows * dim), opts.transfer === true);
  const hasVector = own(input.hasVector.subarray(0, rows), opts.transfer === true);

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
    post({
      type: 'start',
      schema: input.schema,
      vectors,
      hasVector,
      hnsw: input.hnsw,
      ...(input.tmpDir !== undefined ? { tmpDir: input.tmpDir } : {}),
    }, [vectors.buffer as ArrayBuffer, hasVector.buffer as ArrayBuffer]);
    for (let from = 0; from < rows; from += CHUNK_ROWS) {
      if (from > 0) await nextTurn();
      post({
        type: 'rows',
        ids: input.ids.slice(from, from + CHUNK_ROWS),
        attributes: input.attributes.slice(from, from + CHUNK_ROWS),
      });
    }
    post({ type: 'end' });
  } catch (e) {
    void worker.terminate();
    throw e;
  }
  return result;
}

/** The array itself when it may be transferred, else a copy with a buffer of its own. */
function own<T extends Float32Array | Uint8Array>(a: T, transfer: boolean): T {
  const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
  return transfer && whole ? a : a.slice() as T;
}
