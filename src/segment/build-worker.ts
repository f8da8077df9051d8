// Runs inside the worker thread started by buildSegmentInWorker (worker.ts): collects the input,
// which arrives in chunks so that the parent's event loop never blocks on one big clone, builds
// the segment and sends the bytes back as a transferred ArrayBuffer.
import { parentPort } from 'node:worker_threads';
import type { AttributeValue, DocId } from '../schema/types.ts';
import { buildSegmentSync, type SegmentInput } from './builder.ts';
import type { ToWorker, FromWorker } from './worker.ts';

const port = parentPort;
if (port === null) throw new Error('build-worker.ts must run in a worker thread');

let start: Extract<ToWorker, { type: 'start' }> | undefined;
let vectors: Float32Array = new Float32Array(0);
const ids: DocId[] = [];
const attributes: Record<string, AttributeValue>[] = [];

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') {
    start = msg;
    vectors = msg.vectors ?? new Float32Array(msg.rows * msg.schema.vector_dim);
  } else if (msg.type === 'rows') {
    if (msg.vectors !== undefined) vectors.set(msg.vectors, ids.length * start!.schema.vector_dim);
    for (const id of msg.ids) ids.push(id);
    for (const a of msg.attributes) attributes.push(a);
  } else {
    if (start === undefined) throw new Error('build worker: rows ended before start');
    const input: SegmentInput = {
      schema: start.schema,
      ids,
      vectors,
      hasVector: start.hasVector,
      attributes,
      hnsw: start.hnsw,
      ...(start.tmpDir !== undefined ? { tmpDir: start.tmpDir } : {}),
    };
    let reply: FromWorker;
    let transfer: ArrayBuffer[] = [];
    try {
      const { bytes, meta } = buildSegmentSync(input);
      // A Buffer may share a pooled ArrayBuffer; only a buffer of its own can be transferred.
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer as ArrayBuffer
        : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      reply = { type: 'done', bytes: own, meta };
      transfer = [own];
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { type: 'error', name: err.name, message: err.message, stack: err.stack ?? '' };
    }
    port.postMessage(reply, transfer);
  }
});
